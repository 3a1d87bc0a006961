"""Stack backups: a Compose stack as one backup.

Artifacts: `stack.json.gz` (the compose file and `.env` DockerForge holds for the stack),
one `container-<name>.json.gz` per container (the same restore spec a container backup
writes) and one `volume-<name>.tar.gz` per named volume (the stack's own and any named volume
its services mount). The manifest's `stack` section lists services, containers and volumes.

Restore: volumes first (the data must be in place before the services start), then the stored
compose file is written as the stack's files through the compose app (a new stack, or a new
version of an existing managed one) and `up` runs in the same Operation. A new project name
renames the volumes Compose names after the project (`<project>_<key>`), so the restored
stack finds its data under the new name.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError

from apps.compose import services as compose_services
from apps.compose.models import ComposeProject
from apps.containers.recreate import plan_for_container
from apps.core.roles import Action
from apps.engine import lifecycle as engine_lifecycle
from apps.engine.errors import EngineObjectNotFound, PermanentEngineError

from . import services as base
from .models import Backup, Restore

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
VOLUME_LABEL = "com.docker.compose.volume"
ANONYMOUS = re.compile(r"^[0-9a-f]{64}$")


# --- requests ---------------------------------------------------------------------------------

def validate_request(user, host, name: str) -> ComposeProject:
    """The stack must be one DockerForge knows on that host (and the user may see it)."""
    project = ComposeProject.objects.for_user(user, Action.VIEW).filter(host=host, name=name).first()
    if project is None:
        raise ValidationError({"target": [f"No Compose stack named {name!r} on {host.name}."]})
    return project


def validate_restore(user, backup: Backup, target_name: str) -> None:
    """A stack restore writes a stack's files (compose MANAGE); the name is a project name."""
    base.authorize(user, backup.team_id, Action.MANAGE)
    try:
        compose_services.check_name(target_name)
    except ValidationError as exc:
        raise ValidationError({"target": exc.message_dict["name"]}) from None


# --- backup -----------------------------------------------------------------------------------

def _project(backup: Backup) -> ComposeProject:
    project = ComposeProject.objects.filter(host=backup.host, name=backup.target_name).first()
    if project is None:
        raise PermanentEngineError(f"No Compose stack named {backup.target_name} on {backup.host}.")
    return project


def holds_secrets(host, name: str) -> bool:
    """Whether the stack DockerForge holds under `name` has a non-empty .env."""
    project = ComposeProject.objects.filter(host=host, name=name).first()
    return bool(project and compose_services.read_files(project)[1].strip())


def stack_containers(client, name: str) -> list[dict]:
    """Every container of the project (running or not), inspected, in name order."""
    found = []
    for summary in client.api.containers(all=True, filters={"label": f"{PROJECT_LABEL}={name}"}):
        with contextlib.suppress(EngineObjectNotFound):
            found.append(engine_lifecycle.inspect_container(client, summary["Id"]))
    return sorted(found, key=lambda c: c["Name"])


def stack_volumes(client, name: str, containers: list[dict]) -> list[str]:
    """The project's own volumes and the named volumes its containers mount (anonymous
    volumes are left out: a fresh `up` would not reattach them)."""
    names = {v["Name"] for v in (client.api.volumes(filters={"label": f"{PROJECT_LABEL}={name}"}).get("Volumes") or [])}
    for c in containers:
        names |= {m["Name"] for m in c.get("Mounts") or [] if m.get("Type") == "volume" and m.get("Name")}
    return sorted(n for n in names if not ANONYMOUS.match(n))


def backup_stack(job: base.Job) -> None:
    project = _project(job.backup)
    compose_text, env_text = compose_services.read_files(project)
    if not compose_text.strip():
        raise PermanentEngineError(f"DockerForge holds no compose file for stack {project.name}: take it over first.")
    stack = {"project": project.name, "compose": compose_text, "env": env_text,
             "compose_file": PurePosixPath(project.main_file).name or "compose.yaml"}
    job.write("stack.json.gz", "stack", [json.dumps(stack).encode()])

    containers = stack_containers(job.client, project.name)
    services: dict[str, list[str]] = {}
    for inspect in containers:
        name = inspect["Name"].lstrip("/")
        service = (inspect["Config"].get("Labels") or {}).get(SERVICE_LABEL, "")
        spec = {"inspect": inspect, "plan": plan_for_container(job.client, inspect["Id"]).as_dict(),
                "running": bool((inspect.get("State") or {}).get("Running"))}
        job.write(f"container-{name}.json.gz", "container", [json.dumps(spec).encode()], service=service, container={"name": name})
        services.setdefault(service, []).append(name)

    volumes = stack_volumes(job.client, project.name, containers)
    with base.quiesced(job.client, containers, job.progress):  # one stop for all volumes
        for volume in volumes:
            base._volume_artifact(job, volume, f"volume-{volume}.tar.gz", "volume", quiesce=False)
    job.extra["manifest"] = {"stack": {"project": project.name, "services": services, "volumes": volumes,
                                       "compose_file": stack["compose_file"], "working_dir": project.working_dir}}


# --- restore ----------------------------------------------------------------------------------

def renamed_volume(volume: dict, old: str, new: str) -> dict:
    """The volume's name and labels under project `new` (only volumes Compose named after
    the project move; an external or explicitly named volume keeps its name)."""
    labels = dict(volume.get("labels") or {})
    key = labels.get(VOLUME_LABEL)
    name = volume["name"]
    if old != new and key and name == f"{old}_{key}":
        name = f"{new}_{key}"
    if labels.get(PROJECT_LABEL) == old:
        labels[PROJECT_LABEL] = new
    return {**volume, "name": name, "labels": labels}


def _stack_files(user, host, name: str, doc: dict, backup: Backup, progress) -> ComposeProject:
    """The stored compose file and .env as the stack's files: a new stack, or a new version of
    an existing one DockerForge manages (the previous version stays for rollback)."""
    comment = f"Restored from backup {backup.uuid}"
    project = ComposeProject.objects.filter(host=host, name=name).first()
    if project is None:
        project = compose_services.create_project(user, host, name, doc["compose"], doc.get("env") or "", comment=comment)
        progress.log(f"Created stack {name} from the backed-up compose file")
        return project
    if not project.managed:
        raise PermanentEngineError(f"Stack {name} exists on {host.name} and DockerForge does not own its files: "
                                   "take it over first, or restore under a new name.")
    compose_services.save_files(user, project, doc["compose"], doc.get("env") or "", comment=comment)
    progress.log(f"Wrote the backed-up compose file as a new version of stack {name}")
    return project


def restore_stack(client, restore: Restore, progress) -> dict:
    backup, host = restore.backup, restore.host
    user = restore.operation.created_by if restore.operation else None
    doc = json.loads(b"".join(base._checked_stream(backup, base._artifacts(backup, "stack")[0])))
    old, new = doc["project"], restore.target_name
    volumes = []
    for entry in base._artifacts(backup, "volume"):
        moved = {**entry, "volume": renamed_volume(entry["volume"], old, new)}
        base._restore_volume(client, backup, moved, moved["volume"]["name"], overwrite=restore.overwrite, progress=progress)
        volumes.append(moved["volume"]["name"])
    progress.progress(0.7)
    project = _stack_files(user, host, new, doc, backup, progress)
    compose_services.run_action(project, {"action": "up"}, progress)
    return {"stack": new, "project": project.pk, "volumes": volumes}
