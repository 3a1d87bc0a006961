import pytest
from channels.layers import channel_layers
from django.conf import settings as django_settings

from tests.helpers import RUN_ID, require_service, worker_id

ALLOWED_ORIGIN = b"http://127.0.0.1:8000"


@pytest.fixture
def in_memory_layer(settings):
    """One process: the in-memory channel layer (fresh per test)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture
def redis_layer(settings):
    """Across processes: Redis, with a prefix of this run and worker so sessions never mix."""
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        require_service("Redis on 127.0.0.1:6379", False, str(exc))
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": f"dockerforge-test-{RUN_ID}-{worker_id()}:asgi"},
        }
    }
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


def session_headers(client, user, origin: bytes | None = ALLOWED_ORIGIN) -> list[tuple[bytes, bytes]]:
    """Handshake headers of a browser logged in as `user`."""
    client.force_login(user)
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    headers = [(b"cookie", cookie.encode())]
    if origin is not None:
        headers.append((b"origin", origin))
    return headers
