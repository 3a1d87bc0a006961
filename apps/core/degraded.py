"""What runs in a reduced mode, shown in the UI banner and in /readyz."""

from django.conf import settings


def redis_ok() -> bool | None:
    """True/False when Redis is configured and answers or not; None when not configured."""
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def degraded_components() -> list[str]:
    if not settings.REDIS_URL:
        return [
            "No Redis configured: background tasks run inside the web process and live updates "
            "reach only this process. Set REDIS_URL (or install redis-server) for workers and beat."
        ]
    return []
