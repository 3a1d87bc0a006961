"""The mirror sync: read a host's containers, images, volumes and networks and upsert rows.

A full sync is a handful of queries per host and kind, whatever the number of objects:
one read of the existing rows, one upsert (`bulk_create(update_conflicts=True)`) of what
changed, one `bulk_update` of the light fields of what did not, one UPDATE marking the
vanished rows removed. A container is inspected only when its list entry differs from
the row (state, health, name, image, labels) or `full=True`, so a steady-state resync
costs about one `GET /containers/json`.

One way to refresh rows, used by every caller: `sync_host(host, kinds=...)` per kind (the
listener's resync, the periodic sync, operations that changed a kind: `refresh_kind`) and
`refresh_object(host, kind, key)` for one object (the listener, lifecycle operations).
Environment values never reach the database: inspects are stored with each value masked,
and operators reveal them with a live read (`read_env`).

Engine state is not a person's change: no audit, no per-row events here (the listener
publishes events for what it sees happen).
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.broadcast import broadcast_to_team
from apps.core.fields import MASK
from apps.engine import mirror as engine
from apps.engine.errors import EngineObjectNotFound
from apps.hosts.models import DockerHost
from apps.hosts.services import client_for

from .models import Container, Image, Network, Volume

logger = logging.getLogger(__name__)

INSPECT_WORKERS = 8
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
_HEALTH_IN_STATUS = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_EXIT_IN_STATUS = re.compile(r"^Exited \((-?\d+)\)")


# --- mapping engine JSON to row fields -------------------------------------------------------

def parse_time(value) -> datetime | None:
    """Docker's RFC 3339 (nanoseconds), unix seconds, or its zero time ("0001-01-01...") -> None."""
    if value in (None, "", 0):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    parsed = parse_datetime(str(value))
    if parsed is None or parsed.year < 1971:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def redact_env(inspect: dict) -> dict:
    """A copy of a container inspect whose Config.Env values are masked (names kept)."""
    config = inspect.get("Config") or {}
    env = config.get("Env") or []
    if not env:
        return inspect
    masked = [f"{line.partition('=')[0]}={MASK}" if "=" in line else line for line in env]
    return {**inspect, "Config": {**config, "Env": masked}}


def _ports(inspect: dict) -> list[dict]:
    ports = []
    for spec, bindings in sorted(((inspect.get("NetworkSettings") or {}).get("Ports") or {}).items()):
        private, _, proto = spec.partition("/")
        base = {"private": int(private) if private.isdigit() else private, "protocol": proto or "tcp"}
        if not bindings:
            ports.append({**base, "host_ip": "", "public": None})
        for b in bindings or []:
            public = b.get("HostPort") or ""
            ports.append({**base, "host_ip": b.get("HostIp", ""), "public": int(public) if public.isdigit() else None})
    return ports


def _networks(inspect: dict) -> list[dict]:
    nets = (inspect.get("NetworkSettings") or {}).get("Networks") or {}
    return [
        {"name": name, "network_id": n.get("NetworkID", ""), "ipv4": n.get("IPAddress", ""),
         "ipv6": n.get("GlobalIPv6Address", ""), "mac": n.get("MacAddress", ""), "aliases": n.get("Aliases") or []}
        for name, n in sorted(nets.items())
    ]


def _mounts(inspect: dict) -> list[dict]:
    return [
        {"type": m.get("Type", ""), "name": m.get("Name", ""), "source": m.get("Source", ""),
         "destination": m.get("Destination", ""), "mode": m.get("Mode", ""), "rw": bool(m.get("RW", True))}
        for m in inspect.get("Mounts") or []
    ]


def status_text(state: dict) -> str:
    """What `docker ps` says, without the relative time (the page shows that)."""
    status = state.get("Status", "")
    health = (state.get("Health") or {}).get("Status", "")
    suffix = f" ({'health: starting' if health == 'starting' else health})" if health else ""
    if status == "running":
        return "Up" + suffix
    if status == "paused":
        return "Up (Paused)"
    if status == "restarting":
        return f"Restarting ({state.get('ExitCode', 0)})"
    if status == "exited":
        return f"Exited ({state.get('ExitCode', 0)})"
    return status.capitalize()


def container_fields(inspect: dict, listed: dict | None = None) -> dict:
    config = inspect.get("Config") or {}
    state = inspect.get("State") or {}
    labels = config.get("Labels") or {}
    health = (state.get("Health") or {}).get("Status", "")
    return {
        "docker_id": inspect["Id"],
        "name": (inspect.get("Name") or "").lstrip("/")[:255],
        "image": (config.get("Image") or "")[:500],
        "image_id": (inspect.get("Image") or "")[:100],
        "command": shlex.join([inspect["Path"], *(inspect.get("Args") or [])]) if inspect.get("Path") else "",
        "state": state.get("Status") or Container.State.CREATED,
        "status": ((listed or {}).get("Status") or status_text(state))[:200],
        "health": health if health in Container.Health.values else "",
        "exit_code": state.get("ExitCode"),
        "oom_killed": bool(state.get("OOMKilled")),
        "restart_count": int(inspect.get("RestartCount") or 0),
        "started_at": parse_time(state.get("StartedAt")),
        "finished_at": parse_time(state.get("FinishedAt")),
        "ports": _ports(inspect),
        "networks": _networks(inspect),
        "mounts": _mounts(inspect),
        "labels": labels,
        "compose_project": labels.get(COMPOSE_PROJECT, "")[:255],
        "compose_service": labels.get(COMPOSE_SERVICE, "")[:255],
        "engine_created_at": parse_time(inspect.get("Created")),
        "inspect": redact_env(inspect),
    }


def image_fields(listed: dict, inspect: dict | None) -> dict:
    tags = [t for t in listed.get("RepoTags") or [] if t != "<none>:<none>"]
    fields = {
        "docker_id": listed["Id"],
        "repo_tags": tags,
        "repo_digests": [d for d in listed.get("RepoDigests") or [] if d != "<none>@<none>"],
        "tags_text": " ".join(tags),
        "size": int(listed.get("Size") or 0),
        "labels": listed.get("Labels") or {},
        "engine_created_at": parse_time(listed.get("Created")),
    }
    if inspect is not None:
        fields.update(architecture=inspect.get("Architecture", "")[:50], os=inspect.get("Os", "")[:50], inspect=inspect)
    return fields


def volume_fields(v: dict) -> dict:
    return {
        "name": v["Name"][:255],
        "driver": (v.get("Driver") or "")[:100],
        "mountpoint": (v.get("Mountpoint") or "")[:1000],
        "scope": (v.get("Scope") or "")[:20],
        "options": v.get("Options") or {},
        "labels": v.get("Labels") or {},
        "engine_created_at": parse_time(v.get("CreatedAt")),
    }


def network_fields(n: dict) -> dict:
    return {
        "docker_id": n["Id"],
        "name": n.get("Name", "")[:255],
        "driver": (n.get("Driver") or "")[:100],
        "scope": (n.get("Scope") or "")[:20],
        "internal": bool(n.get("Internal")),
        "attachable": bool(n.get("Attachable")),
        "ipam": n.get("IPAM") or {},
        "attached": {
            cid: {"name": c.get("Name", ""), "ipv4": c.get("IPv4Address", ""), "ipv6": c.get("IPv6Address", ""),
                  "mac": c.get("MacAddress", "")}
            for cid, c in (n.get("Containers") or {}).items()
        },
        "labels": n.get("Labels") or {},
        "engine_created_at": parse_time(n.get("Created")),
    }


# --- writing rows ----------------------------------------------------------------------------

UPSERT_EXCLUDE = {"id", "host", "created_at"}


def _update_fields(model) -> list[str]:
    unique = set(_unique_fields(model))
    return [f.name for f in model._meta.concrete_fields if f.name not in UPSERT_EXCLUDE | unique]


def _unique_fields(model) -> list[str]:
    return ["host", "name"] if model is Volume else ["host", "docker_id"]


def _key(model) -> str:
    return "name" if model is Volume else "docker_id"


def upsert(model, host: DockerHost, rows: list[dict], now: datetime) -> None:
    """Insert or update every row (one statement per batch); revives removed rows."""
    if not rows:
        return
    objs = [model(team_id=host.team_id, host=host, last_synced_at=now, removed_at=None, **row) for row in rows]
    for obj in objs:
        obj.updated_at = now
    fields = [f for f in _update_fields(model) if any(f in row for row in rows) or f in ("team", "last_synced_at", "removed_at", "updated_at")]
    model.objects.bulk_create(objs, batch_size=500, update_conflicts=True, unique_fields=_unique_fields(model), update_fields=fields)


def mark_vanished(model, existing: dict, seen: set[str], now: datetime) -> int:
    gone = [row.pk for key, row in existing.items() if key not in seen and row.removed_at is None]
    for start in range(0, len(gone), 500):
        model.objects.filter(pk__in=gone[start:start + 500]).update(removed_at=now, updated_at=now)
    return len(gone)


def _concurrently(fn: Callable, items: Iterable) -> list:
    items = list(items)
    if len(items) <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(INSPECT_WORKERS, settings.ENGINE_POOL_SIZE, len(items))) as pool:
        return list(pool.map(fn, items))


def _or_none(read: Callable, client, ident: str):
    """An inspect, or None when the object vanished between list and inspect."""
    try:
        return read(client, ident)
    except EngineObjectNotFound:
        return None


@dataclass
class KindCounts:
    seen: int = 0
    written: int = 0
    removed: int = 0


@dataclass
class SyncResult:
    containers: KindCounts = field(default_factory=KindCounts)
    images: KindCounts = field(default_factory=KindCounts)
    volumes: KindCounts = field(default_factory=KindCounts)
    networks: KindCounts = field(default_factory=KindCounts)

    @property
    def changed(self) -> bool:
        return any(c.written or c.removed for c in (self.containers, self.images, self.volumes, self.networks))

    def as_dict(self) -> dict:
        return asdict(self)


def _container_changed(row: Container | None, listed: dict) -> bool:
    """Whether the list entry differs from the row in anything an inspect would change."""
    if row is None or row.removed_at is not None or not row.last_synced_at:
        return True
    status = listed.get("Status") or ""
    health = _HEALTH_IN_STATUS.search(status)
    health = {"health: starting": "starting"}.get(health.group(1), health.group(1)) if health else ""
    exited = _EXIT_IN_STATUS.match(status)
    names = [n.lstrip("/") for n in listed.get("Names") or []]
    return (
        row.state != listed.get("State")
        or row.health != health
        or (exited is not None and row.exit_code != int(exited.group(1)))
        or row.name not in names
        or row.image_id != listed.get("ImageID")
        or row.labels != (listed.get("Labels") or {})
    )


def sync_containers(host: DockerHost, client, now: datetime, *, full: bool = False) -> KindCounts:
    listed = {c["Id"]: c for c in engine.list_containers(client)}
    existing = {r.docker_id: r for r in Container.objects.filter(host=host).defer("inspect")}
    changed = [cid for cid, c in listed.items() if full or _container_changed(existing.get(cid), c)]
    inspects = _concurrently(lambda cid: _or_none(engine.inspect_container, client, cid), changed)
    vanished_meanwhile = {cid for cid, data in zip(changed, inspects, strict=True) if data is None}
    # The rest: only the status text moves ("Up 5 minutes" -> "Up 6 minutes").
    light = []
    for cid, entry in listed.items():
        row = existing.get(cid)
        if cid not in changed and row is not None:
            row.status, row.last_synced_at, row.updated_at = (entry.get("Status") or "")[:200], now, now
            light.append(row)
    with transaction.atomic():  # readers see the whole host's change at once
        upsert(Container, host, [container_fields(d, listed[d["Id"]]) for d in inspects if d], now)
        Container.objects.bulk_update(light, ["status", "last_synced_at", "updated_at"], batch_size=500)
        removed = mark_vanished(Container, existing, set(listed) - vanished_meanwhile, now)
    return KindCounts(len(listed), len(changed) - len(vanished_meanwhile), removed)


def sync_images(host: DockerHost, client, now: datetime, *, full: bool = False) -> KindCounts:
    listed = {i["Id"]: i for i in engine.list_images(client)}
    existing = {r.docker_id: r for r in Image.objects.filter(host=host).defer("inspect")}
    # An image's content never changes under its id: inspect new ones only (arch, os).
    new = [iid for iid in listed if iid not in existing or not existing[iid].architecture]
    inspects = dict(zip(new, _concurrently(lambda iid: _or_none(engine.inspect_image, client, iid), new), strict=True))
    rows = [image_fields(listed[iid], inspects[iid]) for iid in new if inspects[iid] is not None]
    known = [image_fields(entry, None) for iid, entry in listed.items() if iid not in inspects]
    with transaction.atomic():
        upsert(Image, host, rows, now)
        upsert(Image, host, known, now)
        removed = mark_vanished(Image, existing, set(listed), now)
    return KindCounts(len(listed), len(rows) + len(known), removed)


def sync_volumes(host: DockerHost, client, now: datetime, *, full: bool = False) -> KindCounts:
    listed = {v["Name"]: v for v in engine.list_volumes(client)}
    existing = {r.name: r for r in Volume.objects.filter(host=host)}
    with transaction.atomic():
        upsert(Volume, host, [volume_fields(v) for v in listed.values()], now)
        removed = mark_vanished(Volume, existing, set(listed), now)
    return KindCounts(len(listed), len(listed), removed)


def sync_networks(host: DockerHost, client, now: datetime, *, full: bool = False) -> KindCounts:
    ids = [n["Id"] for n in engine.list_networks(client)]
    existing = {r.docker_id: r for r in Network.objects.filter(host=host)}
    # The list omits attached containers (API >= 1.28): inspect each (hosts have few networks).
    inspects = [n for n in _concurrently(lambda nid: _or_none(engine.inspect_network, client, nid), ids) if n]
    with transaction.atomic():
        upsert(Network, host, [network_fields(n) for n in inspects], now)
        removed = mark_vanished(Network, existing, {n["Id"] for n in inspects}, now)
    return KindCounts(len(ids), len(inspects), removed)


KINDS = ("containers", "images", "volumes", "networks")


@contextmanager
def engine_client(host: DockerHost, client=None, timeout: float | None = None) -> Iterator:
    """The caller's client as is, or one of our own that is closed on the way out."""
    if client is not None:
        yield client
        return
    own = client_for(host, timeout=timeout)
    try:
        yield own
    finally:
        own.close()


def sync_host(host: DockerHost, *, client=None, full: bool = False, timeout: float | None = None,
              kinds: Iterable[str] = KINDS) -> SyncResult:
    """Bring the host's mirror of `kinds` in line with its engine (the one per-kind refresh:
    the listener's resync, the periodic sync and every operation that changed a kind call
    it). `full` re-inspects every container (other kinds are read whole anyway; an image
    never changes under its id). Raises EngineError when unreachable."""
    syncs = {"containers": sync_containers, "images": sync_images, "volumes": sync_volumes, "networks": sync_networks}
    result = SyncResult()
    with engine_client(host, client, timeout) as c:
        now = timezone.now()
        for kind in kinds:
            setattr(result, kind, syncs[kind](host, c, now, full=full))
    if result.changed:
        notify_changed(host, "mirror.synced")
    return result


MODELS = {"containers": Container, "images": Image, "volumes": Volume, "networks": Network}


def refresh_kind(host: DockerHost, kind: str, *, client=None, key: str = ""):
    """After an operation: re-read all the host's objects of `kind` (one change can touch
    others: a pull moves a tag off the old image) and return the row keyed `key` (docker id;
    name for volumes), or None."""
    sync_host(host, client=client, kinds=(kind,))
    model = MODELS[kind]
    return model.objects.filter(host=host, **{_key(model): key}).first() if key else None


def notify_changed(host: DockerHost, kind: str) -> None:
    """Tell the team's open pages to re-fetch (kind and ids only, like every team push)."""
    broadcast_to_team(host.team_id, {"type": "mirror", "kind": kind, "host": host.pk})


# --- single objects (the listener, operations) -----------------------------------------------

def refresh_object(host: DockerHost, kind: str, key: str, *, client=None, timeout: float | None = None):
    """Re-read one container/image/volume/network into its row: the one single-object refresh
    (the listener and every operation use it). If the engine no longer has the object, its
    row is marked removed and returned (None if it was never mirrored)."""
    model, inspect, to_fields = SINGLE[kind]
    with engine_client(host, client, timeout) as c:
        data = _or_none(inspect, c, key)
    if data is None:
        # An image event may name a tag: only an id says which row went away.
        return None if kind == "image" and not key.startswith("sha256:") else mark_removed(model, host, key)
    fields = to_fields(data)
    upsert(model, host, [fields], timezone.now())
    return model.objects.get(host=host, **{_key(model): fields[_key(model)]})


def refresh_container(host: DockerHost, docker_id: str, *, client=None, timeout: float | None = None) -> Container | None:
    return refresh_object(host, "container", docker_id, client=client, timeout=timeout)


def _image_from_inspect(data: dict) -> dict:
    """An image's row fields from its inspect alone (the list entry's keys rebuilt)."""
    listed = {"Id": data["Id"], "RepoTags": data.get("RepoTags"), "RepoDigests": data.get("RepoDigests"),
              "Size": data.get("Size"), "Labels": (data.get("Config") or {}).get("Labels"), "Created": data.get("Created")}
    return image_fields(listed, data)


# kind: (model, inspect call, inspect -> row fields)
SINGLE = {
    "container": (Container, engine.inspect_container, container_fields),
    "image": (Image, engine.inspect_image, _image_from_inspect),
    "volume": (Volume, engine.inspect_volume, volume_fields),
    "network": (Network, engine.inspect_network, network_fields),
}


def mark_removed(model, host: DockerHost, key: str):
    """Flag the row removed (kept, greyed in pages); returns it, or None if never mirrored."""
    now = timezone.now()
    # The last known state stays as it was: pages show it greyed, marked "removed".
    model.objects.filter(host=host, removed_at__isnull=True, **{_key(model): key}).update(removed_at=now, updated_at=now)
    return model.objects.filter(host=host, **{_key(model): key}).first()


# --- bounded live reads (pages) --------------------------------------------------------------

def read_top(container: Container, *, timeout: float) -> dict:
    client = client_for(container.host, timeout=timeout)
    try:
        return engine.top(client, container.docker_id)
    finally:
        client.close()


def read_env(container: Container, *, timeout: float) -> list[tuple[str, str]]:
    """The container's environment with values, read live (the mirror stores names only)."""
    client = client_for(container.host, timeout=timeout)
    try:
        data = engine.inspect_container(client, container.docker_id)
    finally:
        client.close()
    return [(k, v) for k, _, v in (line.partition("=") for line in (data.get("Config") or {}).get("Env") or [])]


# --- the hosts app's "sync" runs this too ----------------------------------------------------

def host_sync_hook(host: DockerHost, progress) -> dict:
    progress.log("Syncing containers, images, volumes and networks")
    result = sync_host(host, full=True)
    c = result.containers
    progress.log(f"Mirror: {c.seen} containers ({c.removed} removed), {result.images.seen} images, "
                 f"{result.volumes.seen} volumes, {result.networks.seen} networks")
    return result.as_dict()


def register_hooks() -> None:
    from apps.core.registries import host_sync_hooks

    host_sync_hooks.register("containers", host_sync_hook)
