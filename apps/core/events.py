"""The event bus. `publish()` builds the one envelope every event has (DESIGN.md), hands it to
the store (activity's sink), broadcasts it to the team's live channel after commit, and calls
every subscriber (alerts, notifications, ...). Subscribers are registered in ready().
"""

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

SEVERITIES = ("debug", "info", "warning", "error", "critical")

_sinks: list[Callable[[dict], object]] = []
_subscribers: list[tuple[str, Callable[[dict], None]]] = []


def register_sink(fn: Callable[[dict], object]) -> None:
    if fn not in _sinks:
        _sinks.append(fn)


def subscribe(prefix: str, fn: Callable[[dict], None]) -> None:
    """Call fn(envelope) for every event whose kind starts with prefix ("" for all)."""
    if (prefix, fn) not in _subscribers:
        _subscribers.append((prefix, fn))


def unsubscribe(fn: Callable[[dict], None]) -> None:
    _subscribers[:] = [(p, f) for p, f in _subscribers if f is not fn]


def ref(kind: str, obj, name: str | None = None, labels: dict | None = None) -> dict:
    """A {"kind", "id", "name", "labels"} reference to a target object."""
    return {
        "kind": kind,
        "id": getattr(obj, "pk", obj),
        "name": name if name is not None else str(obj),
        "labels": labels or {},
    }


def envelope(kind, team, *, severity="info", host=None, target=None, summary="", url="", data=None, occurred_at=None):
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    return {
        "kind": kind,
        "severity": severity,
        "team": getattr(team, "pk", team),
        "host": {"id": host.pk, "name": host.name} if host is not None else None,
        "target": target,
        "occurred_at": (occurred_at or timezone.now()).isoformat(),
        "summary": summary,
        "url": url,
        "data": data or {},
    }


def publish(kind: str, team, **fields) -> dict:
    """Store, broadcast and fan out one event. Returns the envelope (with "id" once stored)."""
    event = envelope(kind, team, **fields)
    for sink in _sinks:
        stored = sink(event)
        if stored is not None and getattr(stored, "pk", None):
            event["id"] = stored.pk
    if event["team"] is not None:
        from .broadcast import broadcast_to_team

        broadcast_to_team(event["team"], {"type": "event", "kind": kind, "id": event.get("id")})

    def fan_out():
        for prefix, fn in list(_subscribers):
            if kind.startswith(prefix):
                try:
                    fn(event)
                except Exception:  # noqa: BLE001 - one subscriber must not break the others
                    logger.exception("event subscriber %r failed for %s", fn, kind)

    transaction.on_commit(fan_out)
    return event
