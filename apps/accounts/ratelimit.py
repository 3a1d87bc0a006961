"""Login rate limit: at most N failures per window per username and per client address."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import LoginAttempt


def is_limited(username: str, remote_addr: str) -> bool:
    since = timezone.now() - timedelta(seconds=settings.LOGIN_RATE_WINDOW)
    recent = LoginAttempt.objects.filter(created_at__gte=since)
    limit = settings.LOGIN_RATE_LIMIT
    return (
        recent.filter(username=username.lower()[:150]).count() >= limit
        or recent.filter(remote_addr=remote_addr[:64]).count() >= limit * 5
    )


def record_failure(username: str, remote_addr: str) -> None:
    LoginAttempt.objects.create(username=username.lower()[:150], remote_addr=remote_addr[:64])
    # Keep the table small: forget failures well past the window.
    LoginAttempt.objects.filter(created_at__lt=timezone.now() - timedelta(seconds=settings.LOGIN_RATE_WINDOW * 4)).delete()


def clear(username: str) -> None:
    LoginAttempt.objects.filter(username=username.lower()[:150]).delete()
