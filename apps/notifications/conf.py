"""Installation defaults of this app. Each is read from settings.NOTIFICATIONS_<NAME> when set
(tests shorten the waiting times), else from the environment, else the default here."""

import os

from django.conf import settings

DEFAULTS = {
    # Alertmanager timings (seconds); a route's own fields win.
    "GROUP_WAIT": 30,
    "GROUP_INTERVAL": 300,
    "REPEAT_INTERVAL": 4 * 3600,
    # Retries: exponential backoff from RETRY_BASE, capped, with jitter, up to MAX_ATTEMPTS.
    "RETRY_BASE": 10.0,
    "RETRY_MAX_DELAY": 3600.0,
    "MAX_ATTEMPTS": 6,
    # Token-bucket refill window: Channel.rate_limit messages per RATE_WINDOW seconds.
    "RATE_WINDOW": 60.0,
    # HTTP/SMTP timeouts (seconds).
    "CONNECT_TIMEOUT": 5.0,
    "READ_TIMEOUT": 10.0,
    # How long a claimed group or delivery stays claimed if its worker dies.
    "CLAIM_SECONDS": 120,
    # The beat task that flushes due groups and retries due deliveries.
    "TICK_SECONDS": 10.0,
}


def get(name: str):
    default = DEFAULTS[name]
    value = getattr(settings, f"NOTIFICATIONS_{name}", None)
    if value is None:
        raw = os.environ.get(f"DOCKERFORGE_NOTIFICATIONS_{name}")
        if raw is None:
            return default
        value = raw
    return type(default)(value)
