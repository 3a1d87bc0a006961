"""HTTP + WebSocket routing. WebSockets pass our origin-or-token validator first (DESIGN.md)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dockerforge.settings")
django_asgi_app = get_asgi_application()  # sets up Django before consumers are imported

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.core.ws import OriginOrTokenValidator  # noqa: E402
from dockerforge.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginOrTokenValidator(URLRouter(websocket_urlpatterns)),
    }
)
