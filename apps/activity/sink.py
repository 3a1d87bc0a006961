from django.utils.dateparse import parse_datetime

from .models import Event


def store_event(envelope: dict) -> Event:
    """The event bus's store: one row per published event."""
    target = envelope.get("target") or {}
    host = envelope.get("host") or {}
    return Event.objects.create(
        team_id=envelope["team"],
        kind=envelope["kind"],
        severity=envelope["severity"],
        host_id=host.get("id"),
        host_name=host.get("name", "")[:200],
        target_kind=str(target.get("kind", ""))[:50],
        target_id=str(target.get("id", ""))[:200],
        target_name=str(target.get("name", ""))[:300],
        summary=envelope.get("summary", ""),
        url=envelope.get("url", "")[:500],
        payload=envelope,
        occurred_at=parse_datetime(envelope["occurred_at"]),
    )
