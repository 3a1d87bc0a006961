"""Compose services: request_*(user, ...) authorize and queue Operations; perform(...) runs the
Compose CLI in the task; file edits, versions, take-over, validation context, templates.

Roles: reading (stacks, graph, logs, versions) VIEW; operations OPERATE; editing files,
`.env`, take-over and templates MANAGE.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from apps.activity import operations
from apps.activity.audit import record_action
from apps.containers.sync import sync_host
from apps.core import events
from apps.core.api import user_may
from apps.core.roles import Action

from . import cli, discovery, files, validation
from .models import ComposeFileVersion, ComposeProject

ACTIONS = ("up", "down", "pull", "restart", "stop", "start")
SERVICE_ACTIONS = ("restart", "stop", "start")


def require(user, team_id, action) -> None:
    if not user_may(user, team_id, action):
        raise PermissionDenied("Your role in this team does not allow this action.")


# --- reading files ---------------------------------------------------------------------------

def current_version(project) -> ComposeFileVersion | None:
    return project.versions.order_by("-number").first()


def deployed_version(project) -> ComposeFileVersion | None:
    return project.versions.filter(deployed_at__isnull=False).order_by("-deployed_at", "-number").first()


def read_files(project) -> tuple[str, str]:
    """(compose text, .env text): from disk when reachable, else the last stored version."""
    if files.files_reachable(project.host, project.config_files):
        env_path = Path(project.working_dir or Path(project.main_file).parent) / ".env"
        env_text = files.read_text(env_path) if env_path.is_file() else ""
        return files.read_text(project.main_file), env_text
    version = current_version(project)
    return (version.compose_text, version.env_text) if version else ("", "")


def parsed(project) -> tuple[dict | None, str]:
    """The interpolated document (None if unreadable) and the .env text."""
    try:
        text, env_text = read_files(project)
    except (OSError, ValueError):
        return None, ""
    if not text:
        return None, env_text
    return validation.validate(text, env_file=env_text).data, env_text


def masker(project):
    """A function that masks the project's `.env` and secret-file values in text."""
    data, env_text = parsed(project)
    secrets = files.secret_values(env_text, project.working_dir, data)
    return lambda text: validation.mask(text, secrets)


# --- validation with the host's knowledge ------------------------------------------------------

def context_for(host, project_name: str = "") -> validation.Context:
    from apps.containers.models import Container

    busy: dict[tuple[int, str], str] = {}
    running = Container.objects.filter(host=host, state="running").present()
    if project_name:  # a stack's own containers do not conflict with its next `up`
        running = running.exclude(compose_project=project_name)
    for c in running.only("name", "ports", "compose_project"):
        for port in c.ports or []:  # the mirror's shape (apps/containers/sync.py)
            if isinstance(port, dict) and port.get("public"):
                owner = f"container {c.name!r}" + (f" (stack {c.compose_project})" if c.compose_project else "")
                busy[(int(port["public"]), port.get("protocol", "tcp"))] = owner
    return validation.Context(busy_ports=busy, local_images=_local_images(host), registry_check=_registry_check(host),
                              cli=cli.cli_version())


def _local_images(host) -> set[str] | None:
    """Tags on the host (a bounded engine read); None when the engine cannot say."""
    from apps.engine.errors import EngineError, guard
    from apps.hosts.services import client_for

    try:
        client = client_for(host, timeout=5)
        try:
            with guard(f"listing images on {host.name}"):
                return {tag for image in client.api.images() for tag in (image.get("RepoTags") or [])}
        finally:
            client.close()
    except EngineError:
        return None


def _registry_check(host):
    if not settings.COMPOSE_REGISTRY_CHECK:
        return None

    def check(ref: str) -> bool | None:
        from apps.engine.errors import EngineError, EngineObjectNotFound, guard
        from apps.hosts.services import client_for

        try:
            client = client_for(host, timeout=5)
            try:
                with guard(f"asking the registry about {ref}"):
                    client.api.inspect_distribution(ref)
                    return True
            finally:
                client.close()
        except EngineObjectNotFound:
            return False
        except EngineError:
            return None

    return check


def validate_for(user, text: str, env_text: str = "", host=None, project_name: str = "") -> validation.Result:
    context = None
    if host is not None:
        require(user, host.team_id, Action.VIEW)
        context = context_for(host, project_name)
    return validation.validate(text, env_file=env_text, context=context)


def _errors_to_validation(result: validation.Result, field: str = "compose") -> ValidationError:
    return ValidationError({field: [str(e) for e in result.errors]})


# --- creating and editing ------------------------------------------------------------------

def check_name(name: str) -> str:
    if not files.PROJECT_NAME.match(name or ""):
        raise ValidationError({"name": ["Use 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit."]})
    return name


@transaction.atomic
def create_project(user, host, name: str, compose_text: str, env_text: str = "", comment: str = "Created") -> ComposeProject:
    """A new stack in DOCKERFORGE_STACKS_DIR/<team>/<name>/ with its first version."""
    require(user, host.team_id, Action.MANAGE)
    check_name(name)
    if ComposeProject.objects.filter(host=host, name=name).exists():
        raise ValidationError({"name": [f"A stack named {name!r} already exists on {host.name}."]})
    result = validation.validate(compose_text, env_file=env_text)
    if not result.ok:
        raise _errors_to_validation(result)
    folder = files.stack_dir(host.team, name)
    if folder.exists():
        raise ValidationError({"name": [f"The folder {folder} already exists."]})
    compose_file = folder / "compose.yaml"
    project = ComposeProject.objects.create(
        team=host.team, host=host, name=name, source=ComposeProject.Source.PORTAL, working_dir=str(folder),
        config_files=[str(compose_file)], managed=True, files_reachable=True,
        services=sorted((result.data or {}).get("services") or {}),
    )
    files.write_stack_files(folder, compose_file, compose_text, env_text)
    _new_version(project, user, compose_text, env_text, comment)
    return project


@transaction.atomic
def save_files(user, project, compose_text: str, env_text: str | None = None, comment: str = "") -> ComposeFileVersion:
    """A new version: validated, written to disk, kept (the .env encrypted). `env_text` None
    keeps the current .env; a masked line (KEY=••••••) keeps that value."""
    require(user, project.team_id, Action.MANAGE)
    _require_managed(project)
    _, old_env = read_files(project)
    env_text = old_env if env_text is None else files.unmask_env(env_text, old_env)
    result = validation.validate(compose_text, env_file=env_text)
    if not result.ok:
        raise _errors_to_validation(result)
    files.write_stack_files(Path(project.working_dir), Path(project.main_file), compose_text, env_text)
    project.services = sorted((result.data or {}).get("services") or {})
    project.save(update_fields=["services", "updated_at"])
    return _new_version(project, user, compose_text, env_text, comment or "Edited")


def rollback(user, project, version: ComposeFileVersion) -> ComposeFileVersion:
    if version.project_id != project.pk:
        raise ValidationError({"version": ["That version belongs to another stack."]})
    new = save_files(user, project, version.compose_text, version.env_text, comment=f"Rollback to v{version.number}")
    record_action("compose.rollback", project, {"to_version": version.number, "new_version": new.number})
    return new


def _new_version(project, user, compose_text, env_text, comment) -> ComposeFileVersion:
    number = (project.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return ComposeFileVersion.objects.create(project=project, number=number, compose_text=compose_text,
                                             env_text=env_text or "", comment=comment[:300],
                                             created_by=user if user.is_authenticated else None)


def _require_managed(project) -> None:
    if not project.managed:
        raise ValidationError({"project": ["Take this stack over first: DockerForge does not own its files yet."]})


def diff_against_deployed(project, compose_text: str) -> str:
    deployed = deployed_version(project)
    before = deployed.compose_text if deployed else ""
    return "".join(difflib.unified_diff(before.splitlines(True), compose_text.splitlines(True),
                                        f"deployed (v{deployed.number})" if deployed else "deployed (none)", "edited"))


@transaction.atomic
def take_over(user, project) -> ComposeProject:
    """A stack started elsewhere becomes managed: its files are read into version 1."""
    require(user, project.team_id, Action.MANAGE)
    if project.managed:
        return project
    if not files.files_reachable(project.host, project.config_files):
        raise ValidationError({"project": [f"The stack's files are not reachable from DockerForge ({', '.join(project.config_files) or 'none recorded'})."]})
    text, env_text = read_files(project)
    project.managed = True
    project.files_reachable = True
    if not project.working_dir:
        project.working_dir = str(Path(project.main_file).parent)
    project.save(update_fields=["managed", "files_reachable", "working_dir", "updated_at"])
    _new_version(project, user, text, env_text, "Taken over")
    record_action("compose.take_over", project, {"files": project.config_files})
    return project


# --- operations ----------------------------------------------------------------------------

def request_operation(user, project, action: str, *, service: str = "", pull: bool = False, build: bool = False,
                      volumes: bool = False):
    require(user, project.team_id, Action.OPERATE)
    if action not in ACTIONS:
        raise ValidationError({"action": [f"Unknown action {action!r}."]})
    if action in ("stop", "start") and not service:
        raise ValidationError({"service": ["Name the service to stop or start."]})
    if service:
        if action not in SERVICE_ACTIONS:
            raise ValidationError({"service": [f"{action} acts on the whole stack."]})
        known = set(project.services) | set((parsed(project)[0] or {}).get("services") or {})
        if service not in known:
            raise ValidationError({"service": [f"Stack {project.name!r} has no service {service!r}."]})
    if not files.files_reachable(project.host, project.config_files):
        raise ValidationError({"project": ["DockerForge cannot reach this stack's Compose files."]})
    from .tasks import compose_operation

    target = f"{project.name}/{service}" if service else project.name
    return operations.start(team=project.team, kind=f"compose.{action}", task=compose_operation, user=user,
                            target_kind="compose_project", target_id=project.pk, target_name=target,
                            params={"action": action, "service": service, "pull": pull, "build": build, "volumes": volumes})


def command_steps(action: str, params: dict) -> list[list[str]]:
    """The CLI commands of one action (e.g. a pull before `up` when asked)."""
    service = [params["service"]] if params.get("service") else []
    if action == "up":
        steps = [["pull"]] if params.get("pull") else []
        return steps + [["up", "-d", "--remove-orphans", *(["--build"] if params.get("build") else [])]]
    if action == "down":
        return [["down", "--remove-orphans", *(["--volumes"] if params.get("volumes") else [])]]
    return [[action, *service]]


def perform(op, progress) -> dict:
    project = ComposeProject.objects.select_related("host", "team").get(pk=int(op.target_id))
    return run_action(project, op.params, progress)


def run_action(project, params: dict, progress) -> dict:
    """Run one action's CLI steps now, inside the caller's Operation (a compose job, or a step
    of another app's job such as a stack restore)."""
    action = params["action"]
    mask = masker(project)
    for step in command_steps(action, params):
        progress.check_cancel()
        progress.log(f"$ compose {' '.join(step)}")
        code = cli.run(project, step, on_line=lambda line: progress.log(mask(line)), check_cancel=progress.check_cancel)
        if code != 0:
            _publish(project, action, params, ok=False)
            raise cli.ComposeError(f"`compose {' '.join(step)}` exited with {code}")
    if action == "up":
        ComposeFileVersion.objects.filter(pk=getattr(current_version(project), "pk", None)).update(deployed_at=timezone.now())
    # `up`/`down` also create and remove the stack's networks and volumes.
    sync_host(project.host, kinds=("containers", "volumes", "networks"), timeout=discovery.REFRESH_TIMEOUT)
    _publish(project, action, params, ok=True)
    return {"action": action, "service": params.get("service", "")}


def _publish(project, action, params, ok: bool) -> None:
    what = f"service {params['service']} of stack {project.name}" if params.get("service") else f"stack {project.name}"
    events.publish(
        f"compose.{action}" if ok else "compose.failed", project.team, severity="info" if ok else "error",
        host=project.host, target=events.ref("compose_project", project, project.name),
        summary=f"{action} {'done' if ok else 'failed'} for {what}",
        url=reverse("compose:detail", args=[project.pk]), data={"action": action, "service": params.get("service", "")},
    )


_LOG_LINE = re.compile(r"^(?P<prefix>[^|]*\|\s?)(?P<ts>\d{4}-\d\d-\d\dT[0-9:.]+Z?)?(?P<rest>.*)$")


def stack_logs(user, project, tail: int = 200) -> str:
    """The last lines of every service, interleaved by time (a bounded read), values masked."""
    require(user, project.team_id, Action.VIEW)
    tail = max(1, min(int(tail), 5000))
    out = cli.capture(project, ["logs", "--no-color", "--timestamps", "--tail", str(tail)])
    lines = [line for line in out.splitlines() if "|" in line]
    lines.sort(key=lambda line: (m.group("ts") or "") if (m := _LOG_LINE.match(line)) else "")
    return masker(project)("\n".join(lines))


def request_discover(user, host) -> list[ComposeProject]:
    """Discovery on demand (a bounded engine read)."""
    require(user, host.team_id, Action.VIEW)
    return discovery.discover_host(host)
