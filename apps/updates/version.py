"""DockerForge's own version, and an optional check against a release feed.

The feed (DOCKERFORGE_RELEASE_FEED_URL, off by default) is a JSON document
`{"version": "1.2.3", "url": "...", "notes": "..."}` (or a list of such, newest first). It is
never required: any failure is reported as "unknown" and the portal works on.
"""

from __future__ import annotations

import logging
import platform

import django
import requests
from django.conf import settings
from django.core.cache import cache

import dockerforge

from .versions import parse_tag

logger = logging.getLogger(__name__)
CACHE_KEY = "updates:release-feed"


def current_version() -> str:
    return dockerforge.__version__


def version_info() -> dict:
    feed = check_release_feed() if settings.RELEASE_FEED_URL else None
    return {
        "name": "DockerForge",
        "version": current_version(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "release_feed": feed,
    }


def _newer(candidate: str, current: str) -> bool:
    a, b = parse_tag(candidate), parse_tag(current)
    return bool(a and b and a.sort_key() > b.sort_key())


def _fetch(url: str) -> dict:
    with requests.Session() as session:
        session.trust_env = False
        resp = session.get(url, timeout=settings.RELEASE_FEED_TIMEOUT, headers={"Accept": "application/json"})
        resp.raise_for_status()
        body = resp.json()
    latest = body[0] if isinstance(body, list) and body else body
    if not isinstance(latest, dict) or not isinstance(latest.get("version"), str):
        raise ValueError("the feed has no version")
    return {"latest": latest["version"][:50], "url": _safe_url(latest.get("url")), "notes": str(latest.get("notes") or "")[:2000]}


def check_release_feed(*, force: bool = False) -> dict | None:
    """{"status": "current"|"update"|"unknown", "latest", "url", ...}; None when no feed is set."""
    url = settings.RELEASE_FEED_URL
    if not url:
        return None
    cached = None if force else cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    try:
        info = _fetch(url)
        info["status"] = "update" if _newer(info["latest"], current_version()) else "current"
    except (requests.RequestException, ValueError) as exc:
        logger.info("release feed %s unavailable: %s", url, exc.__class__.__name__)
        info = {"status": "unknown", "error": f"The release feed could not be read ({exc.__class__.__name__})."}
    cache.set(CACHE_KEY, info, settings.RELEASE_FEED_CACHE_SECONDS)
    return info


def _safe_url(value) -> str:
    # The feed's link is shown as a link: only http(s), never javascript: or data:.
    value = str(value or "")[:500]
    return value if value.startswith(("https://", "http://")) else ""
