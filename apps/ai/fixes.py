"""Fix proposals: a detector or an agent proposes an action, an operator approves it, and it
runs as an Operation through the containers app's recreate-with-rollback service.

    propose(analysis, kind, params, rationale, source)   validated, one open proposal per kind
    propose_from_findings(analysis)                      the detectors' `fix` suggestions
    request_approve(user, fix) / request_reject(user, fix)
    perform_fix(op, progress)                            the Operation's work

Every kind becomes recreate changes computed from the container's live inspect at apply
time (so a raised memory limit scales the swap limit of the spec that runs now). The new
container is always started and verified; a failed verification rolls back to the old one.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.activity import operations
from apps.activity.audit import record_action
from apps.core import events
from apps.core.api import user_may
from apps.core.roles import Action

from . import live
from .models import Analysis, FixProposal

MIB = 1024 * 1024
MAX_MEMORY = 2**50
OPEN = (FixProposal.Status.PROPOSED, FixProposal.Status.APPROVED)
RECREATE_KEYS = ("env", "ports")


# --- validating what a detector or a model proposes ------------------------------------------

def _memory_params(params: dict) -> dict:
    from apps.containers.create_spec import parse_memory

    try:
        memory = parse_memory(params.get("memory"))
    except ValidationError as exc:
        raise ValidationError({"memory": exc.messages}) from None
    if not memory:
        raise ValidationError({"memory": ["Give the new memory limit, e.g. 512m."]})
    return {"memory": memory}


def _recreate_params(params: dict) -> dict:
    """{"env": {NAME: value | null (remove)}, "ports": ["8080:80", ...]}: env merges into the
    running container's env, ports replace its published ports."""
    from apps.containers.create_spec import parse_ports

    unknown = sorted(set(params) - set(RECREATE_KEYS))
    if unknown or not params:
        raise ValidationError({"params": [f"Give env and/or ports (not {', '.join(unknown) or 'nothing'})."]})
    out: dict = {}
    env = params.get("env")
    if env is not None:
        if not isinstance(env, dict) or not all(isinstance(k, str) and k and "=" not in k for k in env):
            raise ValidationError({"env": ["Give env as an object of NAME: value (null removes the variable)."]})
        if not all(v is None or isinstance(v, str | int | float) for v in env.values()):
            raise ValidationError({"env": ["Values are text, or null to remove."]})
        out["env"] = {k: None if v is None else str(v) for k, v in env.items()}
    if "ports" in params:
        try:
            parse_ports(params["ports"])
        except ValidationError as exc:
            raise ValidationError({"ports": exc.messages}) from None
        out["ports"] = params["ports"]
    return out


def _rollback_params(params: dict) -> dict:
    from apps.containers.create_spec import parse_image

    if not params.get("image"):
        return {}  # the previous image is looked up when the fix is applied
    try:
        return {"image": parse_image(params["image"])}
    except ValidationError as exc:
        raise ValidationError({"image": exc.messages}) from None


VALIDATORS = {
    FixProposal.Kind.RESTART: lambda params: {},
    FixProposal.Kind.RAISE_MEMORY: _memory_params,
    FixProposal.Kind.RECREATE: _recreate_params,
    FixProposal.Kind.ROLLBACK_IMAGE: _rollback_params,
}


def clean_params(kind: str, params) -> dict:
    if kind not in VALIDATORS:
        raise ValidationError({"kind": [f"Unknown fix; one of {', '.join(FixProposal.Kind.values)}."]})
    if not isinstance(params, dict):
        raise ValidationError({"params": ["Expected an object."]})
    return VALIDATORS[kind](params)


# --- proposing ----------------------------------------------------------------------------------

def propose(analysis: Analysis, kind: str, params: dict, rationale: str, source: str) -> FixProposal | None:
    """A proposal for the analysed container; None when it has no container or the same kind
    is already open for it (detectors run again on every analysis)."""
    if analysis.container_id is None:
        return None
    cleaned = clean_params(kind, params)
    if FixProposal.objects.filter(team_id=analysis.team_id, container_id=analysis.container_id, kind=kind, status__in=OPEN).exists():
        return None
    return FixProposal.objects.create(team_id=analysis.team_id, container_id=analysis.container_id, analysis=analysis, kind=kind,
                                      params=cleaned, rationale=rationale[:2000], source=source[:64])


def propose_from_findings(analysis: Analysis) -> list[FixProposal]:
    made = []
    for finding in analysis.findings:
        fix = finding.get("fix")
        if not fix:
            continue
        try:
            proposal = propose(analysis, fix.get("kind", ""), fix.get("params") or {}, finding.get("explanation", ""), finding.get("rule_id", ""))
        except ValidationError:
            continue  # a detector's suggestion that does not validate is not offered
        if proposal is not None:
            made.append(proposal)
    return made


# --- approving ----------------------------------------------------------------------------------

def _authorize(user, fix: FixProposal) -> None:
    if not user_may(user, fix.team_id, Action.OPERATE):
        raise PermissionDenied("Your role in this team does not allow approving fixes.")


def request_approve(user, fix: FixProposal, *, health_seconds: float | None = None) -> FixProposal:
    from .tasks import apply_fix

    _authorize(user, fix)
    if fix.status != FixProposal.Status.PROPOSED:
        raise ValidationError({"status": [f"Only a proposed fix can be approved (this one is {fix.status})."]})
    if fix.container_id is None or fix.container.is_removed:
        raise ValidationError({"container": ["The container this fix is for no longer exists."]})
    with transaction.atomic():
        claimed = FixProposal.objects.filter(pk=fix.pk, status=FixProposal.Status.PROPOSED).update(
            status=FixProposal.Status.APPROVED, approved_by=user, approved_at=timezone.now())
        if not claimed:
            raise ValidationError({"status": [f"Only a proposed fix can be approved (this one is {fix.status})."]})
        params = {"fix": fix.pk}
        if health_seconds is not None:
            params["health_seconds"] = float(health_seconds)
        op = operations.start(team=fix.team, kind="ai.fix", task=apply_fix, user=user, target_kind="container",
                              target_id=fix.container_id, target_name=fix.container.name, params=params)
        FixProposal.objects.filter(pk=fix.pk).update(operation=op)
        fix.refresh_from_db()
        record_action("ai.fix.approve", fix, {"kind": fix.kind, "params": fix.params, "operation": op.pk})
        live.push_changed(fix.analysis_id, "fix", fix=fix.pk, status=fix.status)
    return fix


def request_reject(user, fix: FixProposal) -> FixProposal:
    _authorize(user, fix)
    if not FixProposal.objects.filter(pk=fix.pk, status=FixProposal.Status.PROPOSED).update(status=FixProposal.Status.REJECTED):
        raise ValidationError({"status": [f"Only a proposed fix can be rejected (this one is {fix.status})."]})
    fix.refresh_from_db()
    record_action("ai.fix.reject", fix, {"kind": fix.kind})
    live.push_changed(fix.analysis_id, "fix", fix=fix.pk, status=fix.status)
    return fix


# --- applying -----------------------------------------------------------------------------------

def swap_to_match(inspect: dict, memory: int) -> int:
    """The memory+swap limit for a new memory limit, keeping the old ratio: a container that
    had no swap (swap == memory) still has none; unlimited stays unlimited."""
    host = inspect.get("HostConfig") or {}
    old_memory, old_swap = host.get("Memory") or 0, host.get("MemorySwap") or 0
    if old_swap == -1:
        return -1
    if old_swap > 0 and old_memory > 0:
        return max(memory, int(old_swap * memory / old_memory))
    return memory


def _merged_env(inspect: dict, changes: dict[str, str | None]) -> list[str]:
    current = dict(item.partition("=")[::2] for item in (inspect.get("Config") or {}).get("Env") or [])
    for name, value in changes.items():
        if value is None:
            current.pop(name, None)
        else:
            current[name] = value
    return [f"{k}={v}" for k, v in current.items()]


def previous_image(container) -> str:
    """The image the container ran before its current one: the newest removed mirror row of
    the same name on the same host (recreates and updates leave one) whose image still exists."""
    from apps.containers.models import Container, Image

    rows = (Container.objects.filter(host_id=container.host_id, name=container.name, removed_at__isnull=False)
            .exclude(image_id="").exclude(image_id=container.image_id).order_by("-removed_at"))
    present = set(Image.objects.filter(host_id=container.host_id, removed_at__isnull=True).values_list("docker_id", flat=True))
    for row in rows:
        if row.image_id in present:
            return row.image_id
    raise ValidationError({"image": ["No previous image of this container is known on its host."]})


def changes_for(fix: FixProposal, inspect: dict, redactor=None) -> dict:
    """The recreate changes of a fix, from the container's live inspect."""
    params = fix.params
    if fix.kind == FixProposal.Kind.RAISE_MEMORY:
        return {"memory": params["memory"], "memory_swap": swap_to_match(inspect, params["memory"])}
    if fix.kind == FixProposal.Kind.RECREATE:
        changes = {}
        if "env" in params:
            env = params["env"]
            if redactor is not None:  # an agent saw placeholders: restore them here, never in the stored params
                env = {k: None if v is None else redactor.restore(v) for k, v in env.items()}
            changes["env"] = _merged_env(inspect, env)
        if "ports" in params:
            changes["ports"] = params["ports"]
        return changes
    if fix.kind == FixProposal.Kind.ROLLBACK_IMAGE:
        return {"image": params.get("image") or previous_image(fix.container)}
    return {}  # restart: the same spec, started and verified


def _finish(fix: FixProposal, status: str, result: dict, container=None) -> None:
    fields = {"status": status, "result": result}
    if container is not None:
        fields["container"] = container
    FixProposal.objects.filter(pk=fix.pk).update(**fields)
    fix.refresh_from_db()
    live.push_changed(fix.analysis_id, "fix", fix=fix.pk, status=fix.status)


EVENTS = {
    FixProposal.Status.APPLIED: ("fix.applied", "info", "Fix applied to {name}: {kind}"),
    FixProposal.Status.ROLLED_BACK: ("fix.rolled_back", "error", "Fix for {name} failed verification and was rolled back: {kind}"),
    FixProposal.Status.FAILED: ("fix.failed", "error", "Fix for {name} failed: {kind}"),
}


def _announce(fix: FixProposal, row, host, error: str) -> None:
    kind, severity, summary = EVENTS[fix.status]
    events.publish(kind, fix.team_id, severity=severity, host=host,
                   target=events.ref("container", row, row.name, row.labels) if row is not None else None,
                   summary=summary.format(name=row.name if row is not None else "?", kind=fix.get_kind_display()),
                   url=f"/ai/analyses/{fix.analysis_id}/" if fix.analysis_id else "",
                   data={"fix": fix.pk, "kind": fix.kind, "status": fix.status, "error": error[:500]})
    record_action(f"ai.{kind}", fix, {"kind": fix.kind, "params": fix.params, "result": fix.result})


def perform_fix(op, progress) -> dict:
    from apps.containers.create_spec import clean_changes
    from apps.containers.recreate import RecreateFailed, recreate
    from apps.containers.sync import refresh_container

    from .context import live_inspect
    from .redaction import Redactor

    fix = FixProposal.objects.select_related("container__host", "analysis").get(pk=op.params["fix"])
    row, host = fix.container, fix.container.host
    try:
        redactor = Redactor.from_json(fix.analysis.redaction_map) if fix.analysis_id else None
        changes = clean_changes(changes_for(fix, live_inspect(row), redactor), may_bind=False)
    except Exception as exc:
        _finish(fix, FixProposal.Status.FAILED, {"error": str(exc)[:2000]})
        _announce(fix, row, host, str(exc))
        raise
    progress.log(f"Applying {fix.get_kind_display()} to {row.name}: {', '.join(sorted(changes)) or 'same spec, restarted'}")
    result = recreate(host, row.docker_id, changes, progress=progress, health_seconds=op.params.get("health_seconds"), start=True)
    current = refresh_container(host, result.container_id) if result.container_id else None
    if result.container_id != row.docker_id:
        refresh_container(host, row.docker_id)  # the old container is gone after a success
    status = (FixProposal.Status.APPLIED if result.ok else
              FixProposal.Status.ROLLED_BACK if result.rolled_back else FixProposal.Status.FAILED)
    _finish(fix, status, result.as_dict(), current)
    if current is not None and current.pk != row.pk:
        # The other open proposals were for the same container, which now runs as `current`.
        FixProposal.objects.filter(container=row, status=FixProposal.Status.PROPOSED).update(container=current)
    _announce(fix, current or row, host, result.error)
    if not result.ok:
        raise RecreateFailed(f"{result.error} (rolled back to the old container)")
    return {"fix": fix.pk, "status": status, **result.as_dict()}
