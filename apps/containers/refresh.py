"""Refresh the mirror rows of one host's images, volumes or networks after an operation.

Small and self-contained on purpose: the resource operations call these right after they
change an engine, so the pages show the result without waiting for the next full sync.
Engine state is not a person's change: rows are written with update()/bulk_create and not
audited (DESIGN.md). Rows that vanished are marked removed, never deleted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.engine import resources as engine

from .models import Image, Network, Volume


def _timestamp(value) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str) and value:
        # The engine writes nanoseconds; Python keeps microseconds.
        return parse_datetime(re.sub(r"(\.\d{6})\d+", r"\1", value).replace("Z", "+00:00"))
    return None


def _apply(model, host, key: str, rows: dict[str, dict]) -> dict[str, object]:
    """Upsert `rows` ({key value: fields}) for `host`; mark the host's others removed."""
    now = timezone.now()
    out = {}
    with transaction.atomic():
        existing = {getattr(r, key): r for r in model.objects.filter(host=host)}
        for value, fields in rows.items():
            fields = {**fields, "last_synced_at": now, "removed_at": None}
            row = existing.get(value)
            if row is None:
                row = model.objects.create(team_id=host.team_id, host=host, **{key: value}, **fields)
            else:
                model.objects.filter(pk=row.pk).update(team_id=host.team_id, **fields)
                for name, v in fields.items():
                    setattr(row, name, v)
            out[value] = row
        gone = [r.pk for v, r in existing.items() if v not in rows and r.removed_at is None]
        if gone:
            model.objects.filter(pk__in=gone).update(removed_at=now)
    return out


def image_fields(summary: dict, inspect: dict | None = None) -> dict:
    tags = [t for t in (summary.get("RepoTags") or []) if t != "<none>:<none>"]
    fields = {
        "repo_tags": tags,
        "repo_digests": [d for d in (summary.get("RepoDigests") or []) if d != "<none>@<none>"],
        "tags_text": " ".join(tags),
        "size": int(summary.get("Size") or 0),
        "labels": summary.get("Labels") or {},
        "engine_created_at": _timestamp(summary.get("Created")),
    }
    if inspect:
        fields.update(architecture=inspect.get("Architecture", "")[:50], os=inspect.get("Os", "")[:50], inspect=inspect)
    return fields


def refresh_image_rows(host, client, inspect_ids: tuple[str, ...] = ()) -> dict[str, Image]:
    """Re-read the host's images; new images (and `inspect_ids`) are inspected too."""
    known = set(Image.objects.filter(host=host, removed_at__isnull=True).values_list("docker_id", flat=True))
    rows = {}
    for summary in engine.list_images(client):
        image_id = summary["Id"]
        inspect = engine.inspect_image(client, image_id) if image_id not in known or image_id in inspect_ids else None
        rows[image_id] = image_fields(summary, inspect)
    return _apply(Image, host, "docker_id", rows)


def volume_fields(data: dict) -> dict:
    return {
        "driver": data.get("Driver", "")[:100],
        "mountpoint": data.get("Mountpoint", "")[:1000],
        "scope": data.get("Scope", "")[:20],
        "options": data.get("Options") or {},
        "labels": data.get("Labels") or {},
        "engine_created_at": _timestamp(data.get("CreatedAt")),
    }


def refresh_volume_rows(host, client) -> dict[str, Volume]:
    return _apply(Volume, host, "name", {v["Name"]: volume_fields(v) for v in engine.list_volumes(client)})


def network_fields(data: dict) -> dict:
    attached = {
        cid: {"name": c.get("Name", ""), "ipv4": c.get("IPv4Address", ""), "ipv6": c.get("IPv6Address", ""), "mac": c.get("MacAddress", "")}
        for cid, c in (data.get("Containers") or {}).items()
    }
    return {
        "name": data.get("Name", "")[:255],
        "driver": data.get("Driver", "")[:100],
        "scope": data.get("Scope", "")[:20],
        "internal": bool(data.get("Internal")),
        "attachable": bool(data.get("Attachable")),
        "ipam": data.get("IPAM") or {},
        "attached": attached,
        "labels": data.get("Labels") or {},
        "engine_created_at": _timestamp(data.get("Created")),
    }


def refresh_network_rows(host, client) -> dict[str, Network]:
    return _apply(Network, host, "docker_id", {n["Id"]: network_fields(n) for n in engine.list_networks(client)})
