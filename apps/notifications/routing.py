"""Routing on the event payload alone (kind, severity, host, labels) and Alertmanager-style
group keys. Pure functions of a route's fields and an envelope: no I/O."""

from __future__ import annotations

import hashlib
import json
import uuid
from fnmatch import fnmatchcase

from .models import NotificationItem, Route, severity_rank

DEFAULT_GROUP_BY = ("rule", "host")
GROUP_FIELDS = ("rule", "host", "kind", "target", "severity")


def is_alert(envelope: dict) -> bool:
    return str(envelope.get("kind", "")).startswith("alert.")


def event_status(envelope: dict) -> str | None:
    """firing / resolved for alerts (pending alerts are not notified), event otherwise."""
    if not is_alert(envelope):
        return NotificationItem.Status.EVENT
    status = (envelope.get("data") or {}).get("status") or envelope["kind"].split(".", 1)[1]
    if status == "firing":
        return NotificationItem.Status.FIRING
    if status == "resolved":
        return NotificationItem.Status.RESOLVED
    return None


def labels_of(envelope: dict) -> dict:
    target = envelope.get("target") or {}
    data = envelope.get("data") or {}
    labels = {**(target.get("labels") or {})}
    if isinstance(data.get("labels"), dict):
        labels.update(data["labels"])
    return {str(k): str(v) for k, v in labels.items()}


def matches(route: Route, envelope: dict, *, check_severity: bool = True) -> bool:
    kind = str(envelope.get("kind", ""))
    if route.kinds and not any(fnmatchcase(kind, str(p)) for p in route.kinds):
        return False
    if check_severity and severity_rank(envelope.get("severity")) < severity_rank(route.min_severity):
        return False
    if route.hosts:
        host = envelope.get("host") or {}
        if not host:
            return False
        name, host_id = str(host.get("name", "")), str(host.get("id", ""))
        if not any(fnmatchcase(name, str(p)) or host_id == str(p) for p in route.hosts):
            return False
    if route.labels:
        labels = labels_of(envelope)
        for key, pattern in route.labels.items():
            if key not in labels or not fnmatchcase(labels[key], str(pattern)):
                return False
    return True


def in_digest(route: Route, envelope: dict) -> bool:
    return bool(route.digest_below) and severity_rank(envelope.get("severity")) < severity_rank(route.digest_below)


def _field(envelope: dict, name: str) -> tuple[str, str]:
    """(key part, human label) of one group-by field."""
    if name == "rule":
        rule = (envelope.get("data") or {}).get("rule") or {}
        if is_alert(envelope) and rule:
            return f"rule:{rule.get('id')}", str(rule.get("name") or rule.get("id"))
        return f"kind:{envelope.get('kind')}", str(envelope.get("kind"))
    if name == "host":
        host = envelope.get("host") or {}
        return f"host:{host.get('id', '')}", str(host.get("name", ""))
    if name == "target":
        target = envelope.get("target") or {}
        return f"target:{target.get('kind', '')}:{target.get('id', '')}", str(target.get("name", ""))
    return f"{name}:{envelope.get(name, '')}", str(envelope.get(name, ""))


def group_key(route: Route, envelope: dict, digest: bool) -> tuple[str, dict]:
    if digest:
        return "digest", {"digest": route.name}
    fields = [f for f in (route.group_by or DEFAULT_GROUP_BY) if f in GROUP_FIELDS]
    parts, labels = [], {}
    for name in fields:
        part, label = _field(envelope, name)
        parts.append(part)
        if label:
            labels[name] = label
    key = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:64]
    return key, labels


def fingerprint(envelope: dict) -> str:
    """Alerts: their fingerprint (repeats deduplicate). Other events: each is its own item."""
    if is_alert(envelope):
        data = envelope.get("data") or {}
        if data.get("fingerprint"):
            return f"alert:{data['fingerprint']}"[:200]
        basis = [(data.get("rule") or {}).get("id"), (envelope.get("host") or {}).get("id"),
                 (envelope.get("target") or {}).get("id")]
        return "alert:" + hashlib.sha256(json.dumps(basis, default=str).encode()).hexdigest()[:40]
    if envelope.get("id"):
        return f"event:{envelope['id']}"
    return f"event:{uuid.uuid4().hex}"
