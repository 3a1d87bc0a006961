"""Host services: test a connection, record what the engine said, publish up/down changes,
per-host leases, and the health sweep.

`probe()` only talks to the engine (safe in any thread); `record()` writes the result and
publishes events (database, caller's thread). The sweep probes hosts concurrently and
records them one by one.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.activity import operations
from apps.activity.audit import record_action
from apps.core import events
from apps.core.api import user_may
from apps.core.outbound import OutboundAddressDenied, check_address
from apps.core.roles import Action

from .models import DockerHost, HostLease

logger = logging.getLogger(__name__)

# A person waits for "Test connection": keep it short. The sweep uses the engine default.
INTERACTIVE_TIMEOUT = 5.0
SWEEP_KIND = "sweep"
SWEEP_WORKERS = 8
# One identity per worker process: the lease holder.
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class ConnectionResult:
    ok: bool
    status: str
    error: str = ""
    permanent: bool = False
    elapsed: float = 0.0
    info: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


# --- talking to the engine -----------------------------------------------------------------

def client_for(host: DockerHost, *, timeout: float | None = None):
    """A DockerClient for the host, after the outbound policy allowed its address."""
    from apps.engine.client import connect
    from apps.engine.errors import PermanentEngineError

    from .validation import parse_url

    endpoint = parse_url(host.url)
    if endpoint.scheme != "unix":
        try:
            check_address(endpoint.host, endpoint.port)
        except OutboundAddressDenied as exc:
            raise PermanentEngineError(f"The outbound address policy denies this host: {exc}") from None
    return connect(
        host.url,
        tls_ca=host.tls_ca_cert or None,
        tls_cert=host.tls_client_cert or None,
        tls_key=host.tls_client_key or None,
        ssh_private_key=host.ssh_private_key or None,
        ssh_host_key=host.ssh_host_key or None,
        timeout=timeout,
        api_version=host.api_version or None,
    )


def probe(host: DockerHost, *, timeout: float | None = None) -> ConnectionResult:
    """Connect and read the engine's facts. No database access."""
    from django.core.exceptions import ValidationError

    from apps import engine
    from apps.engine.errors import EngineError

    started = time.monotonic()
    client = None
    try:
        client = client_for(host, timeout=timeout)
        facts = engine.info(client)
    except (EngineError, ValidationError) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        permanent = isinstance(exc, ValidationError) or exc.permanent
        return ConnectionResult(False, DockerHost.Status.DOWN, message, permanent, time.monotonic() - started)
    finally:
        if client is not None:
            client.close()
    return ConnectionResult(True, DockerHost.Status.UP, elapsed=time.monotonic() - started, info=facts.as_dict())


def record(host: DockerHost, result: ConnectionResult) -> bool:
    """Store the result on the host; publish host.up/host.down if the status changed.

    Returns whether it changed. A conditional UPDATE decides the change, so two processes
    recording the same transition publish it once. Engine state is not a person's change:
    rows are updated with .update() and not audited.
    """
    now = timezone.now()
    changed = DockerHost.objects.filter(pk=host.pk).exclude(status=result.status).update(status=result.status) == 1
    fields = {"status": result.status, "last_checked_at": now, "last_error": result.error[:5000]}
    if result.ok:
        info = result.info
        fields.update(last_seen_at=now, engine_version=info["version"][:50], api_version=info["api_version"][:20], engine_info=info)
    DockerHost.objects.filter(pk=host.pk).update(**fields)
    for name, value in fields.items():
        setattr(host, name, value)
    if changed:
        _publish_change(host, result)
    return changed


def _publish_change(host: DockerHost, result: ConnectionResult) -> None:
    up = result.ok
    events.publish(
        "host.up" if up else "host.down",
        host.team_id,
        severity="info" if up else "error",
        host=host,
        target=events.ref("host", host),
        summary=f"Host {host.name} is up (Docker {host.engine_version})" if up else f"Host {host.name} is down: {result.error}",
        url=reverse("hosts:detail", args=[host.pk]),
        data={"error": result.error, "permanent": result.permanent, "engine_version": host.engine_version},
    )


def test_connection(host: DockerHost, *, timeout: float | None = None) -> ConnectionResult:
    """Probe the host now and record the result (status, facts, error, events)."""
    result = probe(host, timeout=timeout)
    record(host, result)
    return result


test_connection.__test__ = False  # not a pytest test, whatever its name says


# --- what people ask for -------------------------------------------------------------------

def authorize(user, host: DockerHost, action: str) -> None:
    if not user_may(user, host.team_id, action):
        raise PermissionDenied("Your role in this team does not allow this action.")


def request_test_connection(user, host: DockerHost, *, timeout: float = INTERACTIVE_TIMEOUT) -> ConnectionResult:
    """Operator+: test now (bounded by a short timeout) and audit who asked."""
    authorize(user, host, Action.OPERATE)
    result = test_connection(host, timeout=timeout)
    record_action("test_connection", host, {"ok": result.ok, "status": result.status, "error": result.error})
    return result


def request_sync(user, host: DockerHost):
    """Operator+: refresh the host's engine facts in the background; returns the Operation."""
    from .tasks import sync_host

    authorize(user, host, Action.OPERATE)
    return operations.start(
        team=host.team, kind="host.sync", task=sync_host, user=user, target_kind="host", target_id=host.pk, target_name=host.name
    )


def perform_sync(op, progress) -> dict:
    host = DockerHost.objects.get(pk=int(op.target_id))
    progress.log(f"Connecting to {host.name} ({host.url})")
    result = test_connection(host)
    progress.log("Engine answered: Docker " + result.info["version"] if result.ok else f"Failed: {result.error}")
    if not result.ok:
        raise RuntimeError(result.error)
    out = result.as_dict()
    from apps.core.registries import host_sync_hooks

    for name, hook in host_sync_hooks.items():  # e.g. the containers mirror
        out[name] = hook(host, progress)
    return out


# --- leases and the sweep ------------------------------------------------------------------

def acquire_lease(host_id: int, kind: str, holder: str = HOLDER, seconds: int | None = None) -> bool:
    """Take or renew the (host, kind) lease: succeeds when it expired or is already ours."""
    seconds = settings.HOST_LEASE_SECONDS if seconds is None else seconds
    now = timezone.now()
    try:
        with transaction.atomic():
            HostLease.objects.get_or_create(host_id=host_id, kind=kind, defaults={"expires_at": now - timedelta(seconds=1)})
    except IntegrityError:
        pass  # another worker created it at the same moment: the UPDATE below decides
    taken = HostLease.objects.filter(host_id=host_id, kind=kind).filter(Q(expires_at__lt=now) | Q(holder=holder))
    return taken.update(holder=holder, expires_at=now + timedelta(seconds=seconds)) == 1


def release_lease(host_id: int, kind: str, holder: str = HOLDER) -> None:
    HostLease.objects.filter(host_id=host_id, kind=kind, holder=holder).update(expires_at=timezone.now() - timedelta(seconds=1))


def sweep(holder: str = HOLDER, *, workers: int = SWEEP_WORKERS, timeout: float | None = None) -> dict:
    """Test every host whose sweep lease this holder gets; returns counts."""
    hosts = [h for h in DockerHost.objects.order_by("pk") if acquire_lease(h.pk, SWEEP_KIND, holder)]
    if not hosts:
        return {"tested": 0, "up": 0, "down": 0, "changed": 0}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(hosts)))) as pool:
        results = list(pool.map(lambda h: probe(h, timeout=timeout), hosts))
    changed = sum(record(host, result) for host, result in zip(hosts, results, strict=True))
    up = sum(r.ok for r in results)
    return {"tested": len(hosts), "up": up, "down": len(hosts) - up, "changed": changed}
