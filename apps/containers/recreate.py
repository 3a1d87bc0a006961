"""Recreate a container from its spec, with rollback. The one shared service that edit,
duplicate, and later the AI, backup and update issues use.

    recreate(host, container_docker_id, changes: dict, *, progress=None, health_seconds=None)
        -> RecreateResult

- `changes`: cleaned values from `create_spec.clean_changes` (image, command, entrypoint,
  env, ports, volumes, networks, restart_policy, memory, cpus, labels, healthcheck); each
  replaces the whole field. Validate (and authorize) before calling: this runs as the
  worker, with whatever permissions the caller already checked.
- `progress`: anything with log(str), progress(float) and check_cancel() (an Operation's
  Progress); None runs silently. A cancel during verification rolls back.
- `start`: start (and verify) the new container even when the old one was stopped (a fix
  for a crashed container); None starts it only if the old one was running.
- `health_seconds`: how long the new container must keep running without a restart (and,
  with a health check, end healthy); default settings.RECREATE_HEALTH_SECONDS. The gate is
  `health_verdict`, shared with the updates app's Compose path.

Steps: inspect the old container and its image; build the create body without the image's
defaults; apply the changes; stop the old one and rename it `<name>-df-old-<short id>`;
create the new one under the original name (networks connected), start it if the old one
was running, and watch it. On success the old container is removed (its volumes stay). On any
failure the new one is removed and the old one renamed back and restarted: same id, name and
config as before. Engine errors before anything changed raise as they are; a failure after
is returned as RecreateResult(ok=False, rolled_back=True, error=...).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

from django.conf import settings

from apps.activity.operations import OperationCancelled
from apps.engine import lifecycle as engine
from apps.engine.errors import EngineError, EngineObjectNotFound
from apps.hosts.services import client_for

from . import create_spec

logger = logging.getLogger(__name__)
POLL_SECONDS = 0.25
STOP_TIMEOUT = 10


class RecreateFailed(Exception):
    """Raised by callers that turn a rolled-back result into a failed Operation."""


@dataclass
class RecreateResult:
    ok: bool
    name: str
    old_id: str
    container_id: str  # the container that runs now: the new one, or the old one after rollback
    new_id: str = ""  # the container that was created (removed again after a rollback)
    rolled_back: bool = False
    cancelled: bool = False
    error: str = ""
    steps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


class _Quiet:
    def log(self, line: str) -> None:
        logger.debug("recreate: %s", line)

    def progress(self, fraction: float) -> None:
        pass

    def check_cancel(self) -> None:
        pass


def plan_for_container(client, docker_id: str, *, where: str = "the engine") -> create_spec.CreatePlan:
    """The create plan of an existing container, image defaults dropped (duplicate uses it too)."""
    inspect = engine.inspect_container(client, docker_id, where=where)
    image = engine.inspect_image(client, inspect["Image"], where=where)
    return create_spec.plan_from_inspect(inspect, image)


def has_healthcheck(inspect: dict) -> bool:
    return ((inspect.get("Config") or {}).get("Healthcheck") or {}).get("Test") not in (None, [], ["NONE"])


def health_verdict(inspect: dict, deadline_passed: bool) -> str | None:
    """The health gate on a new container's inspect: "ok", a failure message, or None to keep
    watching. Running, no restarts (a crash loop under a restart policy can look "running"
    between two polls; RestartCount cannot), healthy when the image has a health check."""
    state = inspect.get("State") or {}
    restarts = inspect.get("RestartCount") or 0
    if restarts:
        return f"the new container restarted {restarts} time(s) (exit code {state.get('ExitCode')})"
    if state.get("Restarting") or not state.get("Running"):
        return f"the new container did not stay running (exit code {state.get('ExitCode')}{', OOM-killed' if state.get('OOMKilled') else ''})"
    health = (state.get("Health") or {}).get("Status", "")
    if has_healthcheck(inspect) and health == "unhealthy":
        return "the new container's health check reports unhealthy"
    if not deadline_passed:
        return None
    if has_healthcheck(inspect) and health != "healthy":
        return None  # still "starting": wait for its verdict (bounded by the caller)
    return "ok"


def _watch(client, new_id: str, seconds: float, progress, where: str) -> str:
    """Watch the new container for `seconds` (longer while its health check is starting)."""
    started = time.monotonic()
    limit = started + seconds + settings.RECREATE_HEALTH_GRACE_SECONDS
    while True:
        progress.check_cancel()
        data = engine.inspect_container(client, new_id, where=where)
        now = time.monotonic()
        verdict = health_verdict(data, now - started >= seconds)
        if verdict is not None:
            return verdict
        if now >= limit:
            return "the new container's health check did not report healthy in time"
        progress.progress(min(0.9, 0.5 + 0.4 * (now - started) / max(seconds, 0.001)))
        time.sleep(POLL_SECONDS)


def _old_name(name: str, docker_id: str) -> str:
    return f"{name}-df-old-{docker_id[:12]}"


def _rollback(client, result: RecreateResult, *, was_running: bool, renamed: bool, where: str, progress) -> None:
    if result.new_id:
        try:
            result.error += "\nLast output of the new container:\n" + engine.logs_tail(client, result.new_id, 10, where=where)
        except EngineError:
            pass
        try:
            engine.remove(client, result.new_id, force=True, where=where)
            progress.log(f"Removed the new container {result.new_id[:12]}")
        except EngineObjectNotFound:
            pass
    if renamed:
        engine.rename(client, result.old_id, result.name, where=where)
        progress.log(f"Renamed the old container back to {result.name}")
    if was_running:
        engine.start(client, result.old_id, where=where)
        progress.log("Started the old container again")
    result.rolled_back = True
    result.container_id = result.old_id


def recreate(host, container_docker_id: str, changes: dict, *, progress=None, health_seconds=None,
             start: bool | None = None) -> RecreateResult:
    progress = progress or _Quiet()
    seconds = settings.RECREATE_HEALTH_SECONDS if health_seconds is None else float(health_seconds)
    where = f"host {host.name}"
    client = client_for(host, timeout=settings.ENGINE_TIMEOUT + STOP_TIMEOUT)
    try:
        return _recreate(client, container_docker_id, changes, progress, seconds, where, start)
    finally:
        client.close()


def _recreate(client, docker_id: str, changes: dict, progress, seconds: float, where: str, start: bool | None = None) -> RecreateResult:
    old = engine.inspect_container(client, docker_id, where=where)
    image = engine.inspect_image(client, old["Image"], where=where)
    plan = create_spec.apply_changes(create_spec.plan_from_inspect(old, image), changes)
    name = old["Name"].lstrip("/")
    was_running = bool((old.get("State") or {}).get("Running"))
    result = RecreateResult(ok=False, name=name, old_id=old["Id"], container_id=old["Id"])
    progress.check_cancel()  # the last moment a cancel leaves everything untouched
    renamed = False
    try:
        if was_running:
            engine.stop(client, old["Id"], STOP_TIMEOUT, where=where)
            progress.log(f"Stopped {name}")
        engine.rename(client, old["Id"], _old_name(name, old["Id"]), where=where)
        renamed = True
        progress.log(f"Renamed the old container to {_old_name(name, old['Id'])}")
        progress.progress(0.3)
        plan.name = name
        result.new_id = engine.create(client, plan.body, name, where=where)
        progress.log(f"Created the new {name} ({result.new_id[:12]})")
        for network, endpoint in plan.extra_networks.items():
            engine.connect_network(client, result.new_id, network, endpoint, where=where)
        if was_running or start:
            engine.start(client, result.new_id, where=where)
            progress.log(f"Started; watching it for {seconds:g} s")
            verdict = _watch(client, result.new_id, seconds, progress, where)
            if verdict != "ok":
                raise RecreateFailed(verdict)
    except (RecreateFailed, EngineError, OperationCancelled) as exc:
        result.cancelled = isinstance(exc, OperationCancelled)
        result.error = "Cancelled on request" if result.cancelled else str(exc)
        progress.log(f"Failed: {result.error}; rolling back")
        _rollback(client, result, was_running=was_running, renamed=renamed, where=where, progress=progress)
        return result
    engine.remove(client, old["Id"], force=True, where=where)
    progress.log(f"Removed the old container {old['Id'][:12]} (its volumes stay)")
    progress.progress(1.0)
    result.ok, result.container_id = True, result.new_id
    return result
