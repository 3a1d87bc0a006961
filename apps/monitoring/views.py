"""/metrics: Prometheus exposition. With DOCKERFORGE_METRICS_TOKEN set, a scraper sends
`Authorization: Bearer <token>`; superusers (session or API token) may always read it.
Without a token nobody else may: the page names every team's containers."""

import hmac

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from .prometheus import exposition


def _bearer_ok(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), token.encode())


def _superuser(request) -> bool:
    if request.user.is_authenticated:
        return request.user.is_superuser
    header = request.headers.get("Authorization", "")
    if header.startswith("Token "):
        from apps.accounts.tokens import user_for_authorization_header

        user = user_for_authorization_header(header)
        return bool(user and user.is_superuser)
    return False


@never_cache
def prometheus(request):
    if not (_bearer_ok(request) or _superuser(request)):
        response = HttpResponse("Unauthorized: send Authorization: Bearer <DOCKERFORGE_METRICS_TOKEN>\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
