"""API token lookup, shared by DRF authentication and the WebSocket validator."""

from django.utils import timezone

from .models import ApiToken, hash_secret

# Write last_used_at at most this often per token, so hot API clients don't write every call.
LAST_USED_RESOLUTION_SECONDS = 60


def user_for_key(raw: str):
    if not raw or not raw.startswith(ApiToken.PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.active().select_related("user").filter(key_hash=hash_secret(raw)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def parse_authorization(header: str) -> str | None:
    parts = (header or "").split()
    if len(parts) == 2 and parts[0].lower() == "token":
        return parts[1]
    return None


def user_for_authorization_header(header: str):
    return user_for_key(parse_authorization(header) or "")
