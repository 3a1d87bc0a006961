"""Finding stacks: from Compose labels on the host's containers (the mirror, refreshed through
the containers app's sync) and from the host's stack folders."""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

from django.utils import timezone

from apps.containers.models import Container
from apps.containers.sync import sync_host

from . import files
from .models import ComposeProject, StackFolder

logger = logging.getLogger(__name__)

LABEL_PROJECT = "com.docker.compose.project"
LABEL_SERVICE = "com.docker.compose.service"
LABEL_FILES = "com.docker.compose.project.config_files"
LABEL_WORKDIR = "com.docker.compose.project.working_dir"
# What a page or a task waits for the engine while refreshing the mirror.
REFRESH_TIMEOUT = 10.0


# --- discovery -------------------------------------------------------------------------------

def discover_host(host, *, refresh: bool = True) -> list[ComposeProject]:
    """Every stack on the host, from labels and stack folders; returns the projects seen."""
    if refresh:
        sync_host(host, kinds=("containers",), timeout=REFRESH_TIMEOUT)
    found = {p.name: p for p in from_labels(host)}
    for project in from_folders(host):
        found.setdefault(project.name, project)
    return list(found.values())


def from_labels(host) -> list[ComposeProject]:
    groups: dict[str, list[dict]] = defaultdict(list)
    rows = Container.objects.filter(host=host).present().exclude(compose_project="").values("compose_project", "compose_service", "labels")
    for row in rows:
        groups[row["compose_project"]].append(row)
    now = timezone.now()
    projects = []
    for name, containers in groups.items():
        labels = containers[0]["labels"] or {}
        working_dir = labels.get(LABEL_WORKDIR, "")
        config_files = [_absolute(p, working_dir) for p in labels.get(LABEL_FILES, "").split(",") if p]
        services = sorted({c["compose_service"] for c in containers if c["compose_service"]})
        projects.append(_upsert(host, name, ComposeProject.Source.LABELS, working_dir, config_files, services, now))
    return projects


def from_folders(host) -> list[ComposeProject]:
    now = timezone.now()
    projects = []
    for folder in StackFolder.objects.filter(host=host):
        try:
            stacks = files.list_folder(host, folder.path)
        except files.RemoteFolderUnavailable as exc:
            logger.info("%s", exc)
            continue
        for stack in stacks:
            projects.append(_upsert(host, stack.name, ComposeProject.Source.FOLDER, stack.working_dir, stack.config_files, None, now))
    return projects


def _absolute(path: str, working_dir: str) -> str:
    return path if Path(path).is_absolute() or not working_dir else str(Path(working_dir) / path)


def _upsert(host, name, source, working_dir, config_files, services, now) -> ComposeProject:
    project, created = ComposeProject.objects.get_or_create(
        host=host, name=name,
        defaults={"team_id": host.team_id, "source": source, "working_dir": working_dir, "config_files": config_files,
                  "services": services or [], "last_seen_at": now},
    )
    if not created:
        if not project.managed:  # the portal's own paths win over what labels say
            project.working_dir = working_dir or project.working_dir
            project.config_files = config_files or project.config_files
        if services:
            project.services = sorted(set(project.services) | set(services))
        project.last_seen_at = now
    project.files_reachable = files.files_reachable(host, project.config_files)
    ComposeProject.objects.filter(pk=project.pk).update(
        working_dir=project.working_dir, config_files=project.config_files, services=project.services,
        last_seen_at=now, files_reachable=project.files_reachable,
    )
    return project
