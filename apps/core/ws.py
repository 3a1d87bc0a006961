"""WebSocket handshake validation (DESIGN.md, Live updates).

A handshake with an Origin header must come from an allowed host (browsers, session auth).
One without an Origin is a non-browser client (the CLI): it must present a valid API token
in the Authorization header. A refused socket is closed before accept and receives no data.
"""

from urllib.parse import urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.conf import settings
from django.http.request import is_same_domain
from django.utils.module_loading import import_string

TOKEN_AUTHENTICATOR = "apps.accounts.tokens.user_for_authorization_header"


def origin_allowed(origin: bytes | str) -> bool:
    if isinstance(origin, bytes):
        origin = origin.decode("latin1")
    parsed = urlparse(origin)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    host = parsed.hostname
    if ":" in host:  # IPv6 literal as it appears in ALLOWED_HOSTS
        host = f"[{host}]"
    return any(pattern == "*" or is_same_domain(host, pattern) for pattern in settings.ALLOWED_HOSTS)


async def deny(receive, send):
    """Refuse a websocket before accepting it: answer the connect with a close."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 4403})


class OriginOrTokenValidator:
    """Wraps the WebSocket router. Browsers (with an Origin) go through the session auth
    stack; token clients bypass it, so the session middleware never overwrites their user."""

    def __init__(self, application):
        self.application = application
        self.session_application = AuthMiddlewareStack(application)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin")
        if origin is not None:
            if not origin_allowed(origin):
                return await deny(receive, send)
            return await self.session_application(scope, receive, send)
        authorization = headers.get(b"authorization", b"").decode("latin1")
        authenticate = import_string(TOKEN_AUTHENTICATOR)
        user = await database_sync_to_async(authenticate)(authorization) if authorization else None
        if user is None:
            return await deny(receive, send)
        scope = dict(scope, user=user, auth_via="token")
        return await self.application(scope, receive, send)
