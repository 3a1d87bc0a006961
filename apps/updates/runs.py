"""Update runs: request_update / request_rollback authorize and queue an Operation;
perform_update / perform_rollback do the work in the task.

An update is a pipeline of step functions over one RunContext (UPDATE_STEPS):

    backup -> pre_hook -> pull -> scan_gate -> replace -> post_hook -> dependants

`backup` writes a container backup through the backups app before anything changes.
`replace` recreates the container through the containers app's shared recreate service
(which stops, renames, creates, watches and rolls back by itself); its health gate
(`recreate.health_verdict`: running, no restarts, healthy when the image has a check) is the
update's. A Compose service whose tag stays
the same is pulled and re-upped through the Compose CLI instead, with the same gate.
Dependants (containers sharing its network namespace, Compose `depends_on` in the same
project) are recreated afterwards, in order (`step_dependants`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.activity import operations
from apps.activity.audit import record_action
from apps.containers.images import PullProgress, validate_reference
from apps.containers.models import Container
from apps.containers.recreate import recreate
from apps.containers.registries import auth_config_for
from apps.containers.sync import refresh_container
from apps.core import events
from apps.core.api import user_may
from apps.core.roles import Action
from apps.engine import lifecycle as engine
from apps.engine import resources as engine_images
from apps.engine.errors import EngineError
from apps.engine.updates import run_in_container
from apps.hosts.services import client_for

from . import checks
from .models import BACKUP_VOLUMES_LABEL, POST_HOOK_LABEL, PRE_HOOK_LABEL, UpdateCheck, UpdateRun, UpdateWindow

logger = logging.getLogger(__name__)


class UpdateFailed(Exception):
    """Ends the Operation as failed after the run, events and audit are recorded."""


class GateBlocked(Exception):
    pass


class StepFailed(Exception):
    def __init__(self, message: str, *, rolled_back: bool = False):
        super().__init__(message)
        self.rolled_back = rolled_back


# --- who may -----------------------------------------------------------------------------------

def in_window(team, now=None) -> bool | None:
    """True/False when the team has enabled windows; None when it has none."""
    windows = list(UpdateWindow.objects.filter(team=team, enabled=True))
    if not windows:
        return None
    now = now or timezone.now()
    return any(w.contains(now, team.time_zone) for w in windows)


def _authorize_update(user, container: Container, override: bool) -> None:
    if not user_may(user, container.team_id, Action.OPERATE):
        raise PermissionDenied("Your role in this team does not allow updates.")
    if override and not user_may(user, container.team_id, Action.MANAGE):
        raise PermissionDenied("Only team admins may override the vulnerability gate.")
    if in_window(container.team) is False and not user_may(user, container.team_id, Action.MANAGE):
        raise PermissionDenied("Outside the team's update windows only admins may update.")


def _target_for(container: Container, target: str) -> str:
    if target:
        try:
            return validate_reference(target)
        except ValidationError as exc:
            raise ValidationError({"target": exc.messages}) from None
    check = UpdateCheck.objects.filter(container=container, status=UpdateCheck.Status.AVAILABLE).first()
    if check is None or not check.target_ref:
        raise ValidationError({"target": ["No update is known for this container: run a check first or name a target."]})
    return check.target_ref


# --- requests (web/API/admin), OPERATE --------------------------------------------------------

def request_update(user, container: Container, *, target: str = "", override: bool = False, automatic: bool = False,
                   health_seconds: float | None = None) -> operations.Operation:
    if user is not None:
        _authorize_update(user, container, override)  # 403 before validation
    if container.is_removed:
        raise ValidationError({"container": ["This container no longer exists."]})
    if checks.is_excluded(container):
        raise ValidationError({"container": [f"This container is excluded from updates (label {checks.EXCLUDE_LABEL})."]})
    to_ref = _target_for(container, target)
    run = UpdateRun.objects.create(
        team_id=container.team_id, container=container, container_name=container.name, host_id=container.host_id,
        from_ref=checks.container_ref(container), from_image_id=container.image_id, from_container_id=container.docker_id,
        to_ref=to_ref, override=bool(override), automatic=automatic, created_by=user if user and user.is_authenticated else None,
    )
    params = {"run": run.pk, "health_seconds": health_seconds}
    return _start(user, run, "update.run", params)


def last_update(container: Container) -> UpdateRun | None:
    return UpdateRun.objects.filter(container=container, kind=UpdateRun.Kind.UPDATE).exclude(status=UpdateRun.Status.PENDING).first()


def request_rollback(user, run: UpdateRun) -> operations.Operation:
    """Manual rollback of the container's last update: back to its previous image."""
    if user is not None and not user_may(user, run.team_id, Action.OPERATE):
        raise PermissionDenied("Your role in this team does not allow updates.")
    container = run.container
    errors = []
    if run.kind != UpdateRun.Kind.UPDATE or run.status != UpdateRun.Status.SUCCEEDED:
        errors.append("Only a succeeded update can be rolled back.")
    elif container is None or container.is_removed or container.docker_id != run.to_container_id:
        errors.append("The container changed since this update: it can no longer be rolled back from here.")
    elif last_update(container) != run:
        errors.append("Only the container's last update can be rolled back.")
    if errors:
        raise ValidationError({"run": errors})
    rollback = UpdateRun.objects.create(
        team_id=run.team_id, kind=UpdateRun.Kind.ROLLBACK, rollback_of=run, container=container, container_name=container.name,
        host_id=run.host_id, from_ref=run.to_ref, from_image_id=run.to_image_id, from_container_id=container.docker_id,
        to_ref=run.from_ref, to_image_id=run.from_image_id, created_by=user if user and user.is_authenticated else None,
    )
    return _start(user, rollback, "update.rollback", {"run": rollback.pk})


def _start(user, run: UpdateRun, kind: str, params: dict) -> operations.Operation:
    from .tasks import rollback_container, update_container

    task = update_container if kind == "update.run" else rollback_container
    op = operations.start(team=run.team, kind=kind, task=task, user=user, target_kind="container",
                          target_id=run.container_id or "", target_name=run.container_name, params=params)
    UpdateRun.objects.filter(pk=run.pk).update(operation=op)
    record_action(kind, run.container, {"operation": op.pk, "run": run.pk, "from": run.from_ref, "to": run.to_ref,
                                        "override": run.override, "automatic": run.automatic})
    return op


# --- the pipeline -------------------------------------------------------------------------------

@dataclass
class RunContext:
    run: UpdateRun
    container: Container
    host: object
    client: object
    progress: object
    health_seconds: float | None
    labels: dict = field(default_factory=dict)
    new_image_id: str = ""
    new_container_id: str = ""
    replaced: bool = False
    touched: bool = False  # the old container was stopped or replaced: dependants must follow

    @property
    def running_id(self) -> str:
        """The container that runs now: the new one, or the old one after a rollback."""
        return self.new_container_id or self.container.docker_id

    @property
    def where(self) -> str:
        return f"host {self.host.name}"

    def step(self, name: str, detail: str = "") -> None:
        self.run.steps.append({"step": name, "at": timezone.now().isoformat(), "detail": detail[:2000]})
        UpdateRun.objects.filter(pk=self.run.pk).update(steps=self.run.steps)
        self.progress.log(f"[{name}] {detail}" if detail else f"[{name}]")


def step_backup(ctx: RunContext) -> None:
    """(a) Back up the container's configuration before anything changes, so the previous
    state can be restored even after a rollback that went wrong. Volumes are included when the
    container carries the label `dockerforge.update.backup-volumes=true`."""
    from apps.backups.services import create_backup

    include_volumes = ctx.labels.get(BACKUP_VOLUMES_LABEL, "").lower() == "true"
    try:
        backup = create_backup(ctx.host, "container", ctx.container.name, ctx.progress,
                               params={"include_volumes": include_volumes})
    except Exception as exc:  # noqa: BLE001 - nothing has changed yet: stop here
        raise StepFailed(f"Backup before the update failed: {exc}") from exc
    ctx.step("backup", f"backup {backup.pk} ({backup.size} bytes{', with volumes' if include_volumes else ''})")


def step_pre_hook(ctx: RunContext) -> None:
    _hook(ctx, PRE_HOOK_LABEL, ctx.container.docker_id, "pre-hook")


def _hook(ctx: RunContext, label: str, container_id: str, name: str) -> None:
    command = ctx.labels.get(label)
    if not command:
        return
    try:
        code, output = run_in_container(ctx.client, container_id, command, where=ctx.where)
    except EngineError as exc:
        raise StepFailed(f"The {name} could not run: {exc}") from None
    ctx.step(name, f"exit {code}: {output[-1000:]}")
    if code != 0:
        raise StepFailed(f"The {name} ({command!r}) exited with {code}")


def step_pull(ctx: RunContext) -> None:
    ref = ctx.run.to_ref
    try:
        auth = auth_config_for(ctx.run.team_id, ref)
    except ValidationError as exc:
        raise StepFailed(f"The registry credential cannot be used: {' '.join(exc.messages)}") from None
    tracker = PullProgress()
    try:
        for message in engine_images.pull(ctx.client, ref, auth):
            tracker.feed(message)
        image = engine_images.inspect_image(ctx.client, ref)
    except EngineError as exc:
        raise StepFailed(f"Pulling {ref} failed: {exc}") from None
    ctx.new_image_id = image["Id"]
    UpdateRun.objects.filter(pk=ctx.run.pk).update(to_image_id=ctx.new_image_id)
    ctx.step("pull", f"{ref} is {ctx.new_image_id[:19]}")
    ctx.progress.progress(0.2)


def step_scan_gate(ctx: RunContext) -> None:
    from . import gate

    if ctx.new_image_id == ctx.run.from_image_id:
        ctx.step("scan", "same image as the running one: nothing to compare")
        return
    diff, reasons = gate.evaluate(ctx, scan_fn=_scan_now)
    UpdateRun.objects.filter(pk=ctx.run.pk).update(vuln_diff=diff, gate=reasons)
    ctx.run.vuln_diff, ctx.run.gate = diff, reasons
    ctx.step("scan", f"{len(diff['added'])} findings added, {len(diff['removed'])} removed")
    if reasons and not ctx.run.override:
        raise GateBlocked("; ".join(reasons))
    if reasons:
        gate.record_override(ctx.run, reasons)
        ctx.step("override", "an admin overrode: " + "; ".join(reasons))
    ctx.progress.progress(0.4)


def _scan_now(ctx: RunContext, image_id: str, image_ref: str):
    """Scan one image on the run's host through the scans app's public API."""
    from apps.scans.services import scan_image_now

    return scan_image_now(ctx.run.team_id, ctx.host, image_id, image_ref, ctx.progress)


class _ScaledProgress:
    """Recreate's progress mapped into the update's share of the bar (0.4 .. 0.9). The health
    gate itself (running, healthy, no restarts) is recreate's `health_verdict`."""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx

    def log(self, line: str) -> None:
        self.ctx.progress.log(line)

    def progress(self, fraction: float) -> None:
        self.ctx.progress.progress(0.4 + 0.5 * fraction)

    def check_cancel(self) -> None:
        self.ctx.progress.check_cancel()


def step_replace(ctx: RunContext) -> None:
    from . import compose_path

    if compose_path.applies(ctx):
        ctx.touched = True
        compose_path.replace(ctx)
        return
    ctx.touched = True
    result = recreate(ctx.host, ctx.container.docker_id, {"image": ctx.run.to_ref},
                      progress=_ScaledProgress(ctx), health_seconds=ctx.health_seconds)
    if not result.ok:
        raise StepFailed(f"The new container failed the health gate: {result.error.strip()}", rolled_back=result.rolled_back)
    ctx.new_container_id, ctx.replaced = result.new_id, True
    ctx.step("recreate", f"new container {result.new_id[:12]} passed the health gate")


def step_dependants(ctx: RunContext) -> None:
    """Recreate the containers that lean on the replaced one, in order: those sharing its
    network namespace (`network_mode: container:...`, which would keep pointing at the removed
    container) get the new id; Compose `depends_on` dependants are recreated after it; their
    own dependants follow them (breadth first, each container once). After a rollback they
    follow the container that runs again (a restarted container has a new namespace)."""
    if not ctx.touched:
        return
    queue = [(ctx.container, ctx.running_id)]
    done = {ctx.container.pk}
    while queue:
        owner, owner_new_id = queue.pop(0)
        for dep in dependants_of(owner):
            if dep.pk in done:
                continue
            done.add(dep.pk)
            new_id = _recreate_dependant(ctx, dep, owner, owner_new_id)
            if new_id:
                queue.append((dep, new_id))


def _recreate_dependant(ctx: RunContext, dep: Container, owner: Container, owner_new_id: str) -> str:
    """Recreate one dependant (the new id), or "" when it failed (recorded, the run goes on:
    the updated container itself passed its gate)."""
    changes = {}
    if shares_network_of(dep, owner):
        changes["network_mode"] = f"container:{owner_new_id}"
    try:
        result = recreate(ctx.host, dep.docker_id, changes, progress=_ScaledProgress(ctx), health_seconds=ctx.health_seconds)
    except EngineError as exc:
        ctx.step("dependant", f"recreating {dep.name} failed: {exc}")
        return ""
    if not result.ok:
        ctx.step("dependant", f"recreating {dep.name} failed: {result.error.strip()[:500]}")
        return ""
    refresh_container(ctx.host, result.new_id)
    ctx.step("dependant", f"recreated {dep.name} as {result.new_id[:12]}" + (f" ({changes['network_mode'][:22]})" if changes else ""))
    return result.new_id


def step_post_hook(ctx: RunContext) -> None:
    try:
        _hook(ctx, POST_HOOK_LABEL, ctx.new_container_id, "post-hook")
    except StepFailed as exc:
        ctx.progress.log(f"{exc}; rolling back to the previous image")
        back = recreate(ctx.host, ctx.new_container_id, {"image": previous_image_ref(ctx.client, ctx.run)},
                        progress=ctx.progress, health_seconds=ctx.health_seconds)
        if back.ok:
            ctx.new_container_id = back.new_id
        raise StepFailed(str(exc), rolled_back=back.ok) from None


# Dependants last: they follow whichever container runs once the post-hook had its say.
UPDATE_STEPS = (step_backup, step_pre_hook, step_pull, step_scan_gate, step_replace, step_post_hook, step_dependants)


def _network_mode(row: Container) -> str:
    return (((row.inspect or {}).get("HostConfig") or {}).get("NetworkMode")) or ""


def shares_network_of(row: Container, owner: Container) -> bool:
    """Does `row` run in `owner`'s network namespace (`container:<id or name>`)?"""
    mode = _network_mode(row)
    if not mode.startswith("container:"):
        return False
    ref = mode.split(":", 1)[1]
    return ref == owner.name or (len(ref) >= 12 and owner.docker_id.startswith(ref))


def _depends_on(row: Container, service: str, from_file: dict[str, set[str]]) -> bool:
    label = (row.labels or {}).get("com.docker.compose.depends_on", "")  # Compose v2 writes it
    named = {part.split(":", 1)[0] for part in label.split(",") if part} or from_file.get(row.compose_service, set())
    return service in named


def dependants_of(container: Container) -> list[Container]:
    """Containers of the host that share `container`'s network namespace, then those of its
    Compose project whose depends_on names its service; by name within each group."""
    from .compose_path import depends_on_map

    rows = list(Container.objects.filter(host_id=container.host_id).present().exclude(pk=container.pk).order_by("name"))
    sharing = [r for r in rows if shares_network_of(r, container)]
    project, service = container.compose_project, container.compose_service
    if not project or not service:
        return sharing
    from_file = depends_on_map(container.host_id, project)
    depending = [r for r in rows if r.compose_project == project and r not in sharing and _depends_on(r, service, from_file)]
    return sharing + depending


def previous_image_ref(client, run: UpdateRun) -> str:
    """The previous image, exactly: its tag if it still names it, else repo@digest, else its id."""
    found = engine.inspect_image(client, run.from_ref)
    if found and found["Id"] == run.from_image_id:
        return run.from_ref
    old = engine.inspect_image(client, run.from_image_id)
    if old is None:
        raise StepFailed(f"The previous image {run.from_image_id[:19]} is no longer on the host")
    name = run.from_ref.split("@", 1)[0]
    name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    for digest in old.get("RepoDigests") or []:
        if digest.split("@", 1)[0] == name:
            return digest
    return run.from_image_id


# --- performing ---------------------------------------------------------------------------------

def _context(op, progress) -> RunContext:
    run = UpdateRun.objects.select_related("host", "container", "team").get(pk=op.params["run"])
    container = run.container
    if container is None:
        raise UpdateFailed("The container is gone.")
    health = op.params.get("health_seconds")
    if health is None:
        health = checks.policy_for(container).health_seconds
    client = client_for(run.host, timeout=settings.IMAGE_PULL_TIMEOUT)
    labels = {**((container.inspect.get("Config") or {}).get("Labels") or {}), **(container.labels or {})}
    UpdateRun.objects.filter(pk=run.pk).update(status=UpdateRun.Status.RUNNING)
    return RunContext(run, container, run.host, client, progress, health, labels)


def perform_update(op, progress) -> dict:
    ctx = _context(op, progress)
    try:
        if ctx.run.from_container_id != ctx.container.docker_id:
            raise StepFailed("The container was replaced since the update was requested.")
        ctx.step("start", f"{ctx.run.from_ref} -> {ctx.run.to_ref}")
        for step in UPDATE_STEPS:
            progress.check_cancel()
            step(ctx)
    except GateBlocked as exc:
        _finish(ctx, UpdateRun.Status.BLOCKED, f"Blocked by policy: {exc}")
    except StepFailed as exc:
        if exc.rolled_back:
            step_dependants(ctx)
        _finish(ctx, UpdateRun.Status.ROLLED_BACK if exc.rolled_back else UpdateRun.Status.FAILED, str(exc))
    except EngineError as exc:
        _finish(ctx, UpdateRun.Status.FAILED, str(exc))
    else:
        return _finish(ctx, UpdateRun.Status.SUCCEEDED, "")
    finally:
        ctx.client.close()


def perform_rollback(op, progress) -> dict:
    ctx = _context(op, progress)
    try:
        ref = previous_image_ref(ctx.client, ctx.run.rollback_of)
        ctx.step("rollback", f"recreating with {ref}")
        result = recreate(ctx.host, ctx.container.docker_id, {"image": ref}, progress=_ScaledProgress(ctx),
                          health_seconds=ctx.health_seconds)
        if not result.ok:
            raise StepFailed(f"The previous image failed the health gate: {result.error.strip()}", rolled_back=False)
        ctx.new_container_id, ctx.replaced, ctx.touched = result.new_id, True, True
        step_dependants(ctx)
    except (StepFailed, EngineError) as exc:
        _finish(ctx, UpdateRun.Status.FAILED, str(exc))
    else:
        return _finish(ctx, UpdateRun.Status.SUCCEEDED, "")
    finally:
        ctx.client.close()


EVENTS = {
    (UpdateRun.Kind.UPDATE, UpdateRun.Status.SUCCEEDED): ("update.completed", "info", "Updated {name}: {from_} -> {to}"),
    (UpdateRun.Kind.UPDATE, UpdateRun.Status.ROLLED_BACK): ("update.rolled_back", "error", "Update of {name} to {to} failed and was rolled back: {error}"),
    (UpdateRun.Kind.UPDATE, UpdateRun.Status.FAILED): ("update.failed", "error", "Update of {name} to {to} failed: {error}"),
    (UpdateRun.Kind.UPDATE, UpdateRun.Status.BLOCKED): ("update.blocked", "warning", "Update of {name} to {to} was blocked: {error}"),
    (UpdateRun.Kind.ROLLBACK, UpdateRun.Status.SUCCEEDED): ("update.rolled_back", "warning", "Rolled {name} back to {to} (manual)"),
    (UpdateRun.Kind.ROLLBACK, UpdateRun.Status.FAILED): ("update.failed", "error", "Rolling {name} back to {to} failed: {error}"),
}


def _finish(ctx: RunContext, status: str, error: str) -> dict:
    run, host = ctx.run, ctx.host
    row = None
    if ctx.new_container_id:
        row = refresh_container(host, ctx.new_container_id)
    old_row = refresh_container(host, run.from_container_id)
    row = row if row is not None and not row.is_removed else old_row
    with transaction.atomic():
        UpdateRun.objects.filter(pk=run.pk).update(status=status, error=error[:10000], finished_at=timezone.now(),
                                                   to_container_id=ctx.new_container_id if ctx.replaced else "",
                                                   container=row or run.container)
        if status == UpdateRun.Status.SUCCEEDED and run.kind == UpdateRun.Kind.UPDATE and row is not None:
            UpdateCheck.objects.filter(container_id=run.container_id).delete()  # the old row's finding is void
    kind, severity, text = EVENTS[(run.kind, status)]
    summary = text.format(name=run.container_name, from_=run.from_ref, to=run.to_ref, error=error)
    target = row or run.container
    data = {"run": run.pk, "from": run.from_ref, "to": run.to_ref, "from_image": run.from_image_id, "to_image": ctx.new_image_id or run.to_image_id,
            "status": status, "error": error, "automatic": run.automatic, "override": run.override,
            "added_findings": len((run.vuln_diff or {}).get("added", [])), "gate": run.gate}
    events.publish(kind, run.team_id, severity=severity, host=host,
                   target=events.ref("container", target, run.container_name, target.labels if target else {}),
                   summary=summary, url=_url(target), data=data)
    record_action(kind, target, data)
    if status != UpdateRun.Status.SUCCEEDED:
        raise UpdateFailed(summary)
    return {"run": run.pk, "status": status, "container": target.pk if target else None}


def _url(row) -> str:
    return reverse("containers:detail", args=[row.pk]) if row is not None else ""


# --- automatic updates in windows, and the dry-run -------------------------------------------

def plan(team, now=None) -> list[dict]:
    """What an automatic run would do now for the team (dry-run; nothing changes)."""
    window = in_window(team, now)
    out = []
    rows = UpdateCheck.objects.filter(team=team).select_related("container", "container__host").order_by("container__name")
    for check in rows:
        c = check.container
        policy = checks.policy_for(c)
        reason = ""
        if check.status != UpdateCheck.Status.AVAILABLE:
            continue
        if c.is_removed:
            reason = "the container is gone"
        elif checks.is_excluded(c):
            reason = "excluded by label"
        elif policy.monitor_only:
            reason = "monitor-only"
        elif not policy.auto_update:
            reason = "automatic updates are off for this container"
        elif window is not True:
            reason = "outside the team's update windows" if window is False else "the team has no update window"
        out.append({"container": c.pk, "name": c.name, "host": c.host.name, "from": check.image_ref, "to": check.target_ref,
                    "digest_update": check.digest_update, "newer_tag": check.newer_tag, "would_update": not reason, "reason": reason})
    return out


def run_windows(now=None) -> int:
    """Beat: in each team's open window, update the containers whose policy asks for it."""
    from apps.accounts.models import Team

    started = 0
    for team in Team.objects.filter(pk__in=UpdateWindow.objects.filter(enabled=True).values("team_id")):
        for item in plan(team, now):
            if not item["would_update"] or UpdateRun.objects.filter(container_id=item["container"], status__in=["pending", "running"]).exists():
                continue
            container = Container.objects.get(pk=item["container"])
            try:
                request_update(None, container, automatic=True)
                started += 1
            except ValidationError as exc:
                logger.info("automatic update of %s skipped: %s", container.name, exc)
    return started


def wait_for(run_pk: int, timeout: float = 60) -> UpdateRun:
    """Tests and bench: the run once it finished (the task may run in a worker)."""
    deadline = time.monotonic() + timeout
    while True:
        run = UpdateRun.objects.get(pk=run_pk)
        if run.finished_at or time.monotonic() > deadline:
            return run
        time.sleep(0.2)
