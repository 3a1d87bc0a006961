"""Container lifecycle as Operations: start, stop, restart, pause, unpause, kill, remove,
rename; create/run from a spec; recreate (edit) and duplicate through recreate.py.

`request_<action>(user, container, **opts)` authorizes (OPERATE on the container's team;
other teams' rows never reach here: the caller's queryset answers 404), validates the
options and records the Operation; its task calls `perform_action` / `perform_create` /
`perform_recreate` / `perform_duplicate`, which talk to the engine, refresh the mirror row,
audit with the actor the task runs as and push a team refresh.

One Event per state change: the engine reports every start, stop, kill, destroy, create and
rename itself, and the events listener stores those as `container.<engine action>`. An
operation therefore stores no Event of its own for them (notifications would route both);
it records who did it (the Operation and the audit log) and pushes `{"type": "container"}`
to the team so open pages update even where no listener runs. Only outcomes the engine has no
word for are published here: `container.recreated` and `container.recreate_failed`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import NoReverseMatch, reverse

from apps.activity import operations
from apps.activity.audit import record, record_action
from apps.core import checks, events
from apps.core.api import user_may
from apps.core.broadcast import broadcast_to_team
from apps.core.roles import Action
from apps.engine import lifecycle as engine
from apps.hosts.models import DockerHost
from apps.hosts.services import client_for

from . import create_spec
from .models import Container
from .sync import refresh_container

logger = logging.getLogger(__name__)


# action -> the verb for the Operation's log
ACTIONS: dict[str, str] = {
    "start": "Starting", "stop": "Stopping", "restart": "Restarting", "pause": "Pausing",
    "unpause": "Unpausing", "kill": "Killing", "remove": "Removing", "rename": "Renaming",
}
# What a bulk request or an admin action may run (no options beyond defaults).
BULK_ACTIONS = ("start", "stop", "restart", "pause", "unpause", "kill", "remove")


# --- who may ---------------------------------------------------------------------------------

def authorize(user, team_id: int) -> None:
    if not user_may(user, team_id, Action.OPERATE):
        raise PermissionDenied("Your role in this team does not allow changing containers.")


def may_bind(user, team_id: int) -> bool:
    """Bind mounts reach the host's files: team admins (and superusers) only."""
    return user_may(user, team_id, Action.MANAGE)


def run_create_checks(team, spec: dict, *, user=None, override: bool = False) -> list[str]:
    """core.checks "container.create": blocks raise a ValidationError, unless a team admin
    overrides them (audited as "policy_override"); warnings are returned."""
    results = checks.run("container.create", team, spec)
    blocks = checks.blocking(results)
    reasons = [f"{r.reason}" + (f" ({r.source})" if r.source else "") for r in blocks]
    if blocks and override:
        if user is None or not user_may(user, team.pk, Action.MANAGE):
            raise PermissionDenied("Only team admins may override a policy.")
        record(
            "action", None, name="policy_override", team_id=team.pk, object_type="containers.container",
            object_repr=str(spec.get("name") or spec.get("image") or "container"),
            after={"overridden": reasons, "spec": {k: spec.get(k) for k in ("image", "name", "privileged")}},
        )
        return [f"Overridden: {reason}" for reason in reasons] + [r.reason for r in results if not r.blocks]
    if blocks:
        raise ValidationError({"checks": [f"Blocked by a policy: {reason}" for reason in reasons]})
    return [r.reason for r in results if not r.blocks]


# --- requests ----------------------------------------------------------------------------------

def _clean_options(action: str, opts: dict) -> dict:
    allowed = {"stop": {"timeout"}, "restart": {"timeout"}, "kill": {"signal"}, "remove": {"force", "volumes"}, "rename": {"name"}}
    unknown = set(opts) - allowed.get(action, set())
    if unknown:
        raise ValidationError({k: [f"{action} takes no option {k!r}."] for k in sorted(unknown)})
    parsers: dict[str, Callable] = {
        "timeout": create_spec.parse_timeout,
        "signal": create_spec.parse_signal,
        "force": bool,
        "volumes": bool,
        "name": create_spec.parse_name,
    }
    cleaned, errors = {}, {}
    for key, value in opts.items():
        try:
            cleaned[key] = parsers[key](value)
        except ValidationError as exc:
            errors[key] = exc.messages
    if action == "rename" and not errors and not cleaned.get("name"):
        errors["name"] = ["A new name is required."]
    if errors:
        raise ValidationError(errors)
    return {k: v for k, v in cleaned.items() if v is not None}


def _start_op(user, container: Container, kind: str, task, params: dict):
    return operations.start(
        team=container.team, kind=kind, task=task, user=user, target_kind="container",
        target_id=container.pk, target_name=container.name, params={"container": container.pk, **params},
    )


def request_action(user, container: Container, action: str, **opts):
    """Authorize (403 before anything else), validate the options, queue the Operation."""
    from .tasks_lifecycle import container_action

    if action not in ACTIONS:
        raise ValidationError({"action": [f"Unknown action {action!r}."]})
    authorize(user, container.team_id)
    cleaned = _clean_options(action, opts)
    return _start_op(user, container, f"container.{action}", container_action, {"action": action, **cleaned})


def request_start(user, container, **opts):
    return request_action(user, container, "start", **opts)


def request_stop(user, container, **opts):
    return request_action(user, container, "stop", **opts)


def request_restart(user, container, **opts):
    return request_action(user, container, "restart", **opts)


def request_pause(user, container, **opts):
    return request_action(user, container, "pause", **opts)


def request_unpause(user, container, **opts):
    return request_action(user, container, "unpause", **opts)


def request_kill(user, container, **opts):
    return request_action(user, container, "kill", **opts)


def request_remove(user, container, **opts):
    return request_action(user, container, "remove", **opts)


def request_rename(user, container, **opts):
    return request_action(user, container, "rename", **opts)


def request_create(user, host: DockerHost, data: dict, *, start: bool = True, override_policy: bool = False):
    """Create (and by default start) a container from friendly input on `host`. A team admin
    may override blocking policies (`override_policy`); the override is audited."""
    from .tasks_lifecycle import create_container

    authorize(user, host.team_id)
    cleaned = create_spec.clean_changes(data, may_bind=may_bind(user, host.team_id), require_image=True)
    plan = create_spec.plan_for_create(cleaned)
    warnings = run_create_checks(host.team, {"host": host.pk, **cleaned, "body": plan.body}, user=user, override=override_policy)
    return operations.start(
        team=host.team, kind="container.create", task=create_container, user=user, target_kind="host",
        target_id=host.pk, target_name=cleaned.get("name") or cleaned["image"],
        params={"host": host.pk, "changes": cleaned, "start": bool(start), "warnings": warnings},
    )


def _existing_binds(container: Container) -> tuple[str, ...]:
    return tuple((container.inspect.get("HostConfig") or {}).get("Binds") or ())


def _recreate_params(user, container: Container, changes: dict, *, kind: str) -> dict:
    authorize(user, container.team_id)
    cleaned = create_spec.clean_changes(
        changes, may_bind=may_bind(user, container.team_id), existing_binds=_existing_binds(container)
    )
    if kind == "container.duplicate" and not cleaned.get("name"):
        raise ValidationError({"name": ["The copy needs a name of its own."]})
    if kind == "container.recreate" and "name" in cleaned and cleaned["name"] != container.name:
        raise ValidationError({"name": ["Rename the container instead; recreate keeps its name."]})
    warnings = run_create_checks(container.team, {"host": container.host_id, "container": container.pk, **cleaned})
    return {"changes": cleaned, "warnings": warnings}


def request_recreate(user, container: Container, changes: dict, *, health_seconds: float | None = None):
    """Edit: recreate from the container's spec with `changes`, rolling back on failure."""
    from .tasks_lifecycle import recreate_container

    params = _recreate_params(user, container, changes, kind="container.recreate")
    if health_seconds is not None:
        params["health_seconds"] = float(health_seconds)
    return _start_op(user, container, "container.recreate", recreate_container, params)


def request_duplicate(user, container: Container, changes: dict):
    """Create a copy of the container's spec (with `changes`, a new name at least) and start it."""
    from .tasks_lifecycle import duplicate_container

    params = _recreate_params(user, container, changes, kind="container.duplicate")
    return _start_op(user, container, "container.duplicate", duplicate_container, params)


# --- performing (in the task, acting as the requester) -----------------------------------------

def container_url(row: Container | None) -> str:
    try:
        return reverse("containers:detail", args=[row.pk]) if row is not None else ""
    except NoReverseMatch:  # the detail page comes with the mirror slice
        return ""


def announce(row: Container) -> None:
    """Tell the team's open pages to re-fetch this container (kind and id only)."""
    broadcast_to_team(row.team_id, {"type": "container", "id": row.pk})


def publish(event: str, row: Container, host: DockerHost, summary: str, *, severity: str = "info", data: dict | None = None):
    """Lifecycle outcomes the engine has no event for (recreate); see the module docstring."""
    events.publish(
        f"container.{event}", host.team_id, severity=severity, host=host,
        target=events.ref("container", row, row.name, row.labels), summary=summary, url=container_url(row),
        data={"docker_id": row.docker_id, "state": row.state, **(data or {})},
    )


def _engine_timeout(params: dict) -> float:
    # A stop/restart waits up to its grace period; the HTTP read must outlast it.
    return settings.ENGINE_TIMEOUT + float(params.get("timeout") or 10)


def _call(client, action: str, ref: str, params: dict, where: str) -> None:
    calls: dict[str, Callable[[], None]] = {
        "start": lambda: engine.start(client, ref, where=where),
        "stop": lambda: engine.stop(client, ref, params.get("timeout"), where=where),
        "restart": lambda: engine.restart(client, ref, params.get("timeout"), where=where),
        "pause": lambda: engine.pause(client, ref, where=where),
        "unpause": lambda: engine.unpause(client, ref, where=where),
        "kill": lambda: engine.kill(client, ref, params.get("signal", "SIGKILL"), where=where),
        "remove": lambda: engine.remove(client, ref, force=params.get("force", False), volumes=params.get("volumes", False), where=where),
        "rename": lambda: engine.rename(client, ref, params["name"], where=where),
    }
    calls[action]()


def perform_action(op, progress) -> dict:
    params = op.params
    action = params["action"]
    row = Container.objects.select_related("host").get(pk=params["container"])
    host = row.host
    where = f"host {host.name}"
    progress.check_cancel()
    progress.log(f"{ACTIONS[action]} {row.name} ({row.short_id}) on {host.name}")
    client = client_for(host, timeout=_engine_timeout(params))
    try:
        _call(client, action, row.docker_id, params, where)
        progress.progress(0.8)
        row = refresh_container(host, row.docker_id, client=client) or row
    finally:
        client.close()
    options = {k: v for k, v in params.items() if k not in ("action", "container")}
    progress.log(f"Done: {row.name} is {'removed' if row.is_removed else row.state}")
    record_action(f"container.{action}", row, {"docker_id": row.docker_id, "host": host.pk, **options})
    announce(row)
    return {"container": row.pk, "docker_id": row.docker_id, "state": row.state, "removed": row.is_removed}


def create_from_plan(client, host: DockerHost, plan: create_spec.CreatePlan, progress, *, start: bool) -> str:
    where = f"host {host.name}"
    new_id = engine.create(client, plan.body, plan.name or None, where=where)
    progress.log(f"Created {plan.name or new_id[:12]} ({new_id[:12]})")
    for network, endpoint in plan.extra_networks.items():
        engine.connect_network(client, new_id, network, endpoint, where=where)
        progress.log(f"Connected to network {network}")
    if start:
        engine.start(client, new_id, where=where)
        progress.log("Started")
    return new_id


def perform_create(op, progress) -> dict:
    params = op.params
    host = DockerHost.objects.get(pk=params["host"])
    plan = create_spec.plan_for_create(params["changes"])
    for warning in params.get("warnings") or []:
        progress.log(f"Warning: {warning}")
    progress.check_cancel()
    client = client_for(host)
    try:
        new_id = create_from_plan(client, host, plan, progress, start=params.get("start", True))
        row = refresh_container(host, new_id, client=client)
    finally:
        client.close()
    record_action("container.create", row, {"docker_id": new_id, "host": host.pk, "spec": params["changes"]})
    announce(row)
    return {"container": row.pk, "docker_id": new_id, "state": row.state}


def perform_recreate(op, progress) -> dict:
    from apps.activity.operations import OperationCancelled

    from .recreate import RecreateFailed, recreate

    params = op.params
    row = Container.objects.select_related("host").get(pk=params["container"])
    host = row.host
    result = recreate(host, row.docker_id, params["changes"], progress=progress, health_seconds=params.get("health_seconds"))
    new_row = refresh_container(host, result.container_id) if result.container_id else None
    refresh_container(host, row.docker_id)
    target = new_row or row
    if not result.ok:
        publish("recreate_failed", target, host, f"Recreating {row.name} failed and was rolled back: {result.error}",
                severity="error", data=result.as_dict())
        record_action("container.recreate", target, {"ok": False, "changes": params["changes"], **result.as_dict()})
        if result.cancelled:
            raise OperationCancelled()
        raise RecreateFailed(f"{result.error} (rolled back to the old container)")
    publish("recreated", target, host, f"Container {row.name} recreated on {host.name}", data=result.as_dict())
    record_action("container.recreate", target, {"ok": True, "changes": params["changes"], **result.as_dict()})
    return {"container": target.pk, **result.as_dict()}


def perform_duplicate(op, progress) -> dict:
    from .recreate import plan_for_container

    params = op.params
    row = Container.objects.select_related("host").get(pk=params["container"])
    host = row.host
    client = client_for(host)
    try:
        plan = create_spec.apply_changes(plan_for_container(client, row.docker_id, where=f"host {host.name}"), params["changes"])
        progress.check_cancel()
        new_id = create_from_plan(client, host, plan, progress, start=True)
        new_row = refresh_container(host, new_id, client=client)
    finally:
        client.close()
    record_action("container.duplicate", new_row, {"docker_id": new_id, "copy_of": row.docker_id, "changes": params["changes"]})
    announce(new_row)
    return {"container": new_row.pk, "docker_id": new_id}
