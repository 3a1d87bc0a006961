"""Updating a Compose service through the Compose CLI (the stack's files stay the truth).

Only a new digest of the same tag goes this way (`pull SERVICE` then `up -d --no-deps
SERVICE`); a newer tag would mean editing the stack's file, which is the stack editor's job,
so the run refuses it with a clear message. The health gate is the same as recreate's
(running, healthy when it has a check, no restarts); on failure the previous image is tagged
back under the reference and the service is upped again.
"""

from __future__ import annotations

import time

from django.conf import settings

from apps.compose import cli
from apps.compose.models import ComposeProject
from apps.containers.recreate import health_verdict
from apps.engine import lifecycle as engine
from apps.engine import resources as engine_images
from apps.engine.errors import EngineError, EngineObjectNotFound

POLL_SECONDS = 0.25


def project_for(ctx) -> ComposeProject | None:
    c = ctx.container
    if not c.compose_project or not c.compose_service:
        return None
    project = ComposeProject.objects.filter(host_id=c.host_id, name=c.compose_project).first()
    return project if project is not None and project.config_files and project.files_reachable else None


def depends_on_map(host_id: int, project_name: str) -> dict[str, set[str]]:
    """service -> the services its `depends_on` names, from the stack's Compose file (Compose
    v1 writes no `com.docker.compose.depends_on` label); empty when the file is unknown."""
    from apps.compose.services import parsed

    project = ComposeProject.objects.filter(host_id=host_id, name=project_name).first()
    data = parsed(project)[0] if project is not None else None
    out = {}
    for name, svc in ((data or {}).get("services") or {}).items():
        deps = (svc or {}).get("depends_on") or []
        out[name] = set(deps if isinstance(deps, list | dict) else [])
    return out


def applies(ctx) -> bool:
    from .runs import StepFailed

    if project_for(ctx) is None:
        return False
    if ctx.run.to_ref != ctx.run.from_ref:
        raise StepFailed(f"{ctx.container.name} is service {ctx.container.compose_service} of stack {ctx.container.compose_project}: "
                         "change its image tag in the stack's Compose file (a new digest of the same tag updates here).")
    return True


def _compose(ctx, project, args: list[str]) -> None:
    from .runs import StepFailed

    ctx.progress.log(f"$ compose {' '.join(args)}")
    try:
        code = cli.run(project, args, on_line=ctx.progress.log, check_cancel=ctx.progress.check_cancel)
    except cli.ComposeError as exc:
        raise StepFailed(str(exc)) from None
    if code != 0:
        raise StepFailed(f"`compose {' '.join(args)}` exited with {code}")


def watch(client, name: str, old_id: str, seconds: float, where: str) -> tuple[str, str]:
    """(new container id, "ok" or why it failed) after watching the service's container with
    recreate's health gate (running, no restarts, healthy when it has a check)."""
    started = time.monotonic()
    limit = started + seconds + settings.RECREATE_HEALTH_GRACE_SECONDS
    while True:
        try:
            data = engine.inspect_container(client, name, where=where)
        except EngineObjectNotFound:
            return "", "the new container is gone"
        if data["Id"] == old_id:
            return old_id, "compose kept the old container"
        verdict = health_verdict(data, time.monotonic() - started >= seconds)
        if verdict is not None:
            return data["Id"], verdict
        if time.monotonic() >= limit:
            return data["Id"], "the new container's health check did not report healthy in time"
        time.sleep(POLL_SECONDS)


def replace(ctx) -> None:
    from .runs import StepFailed

    project = project_for(ctx)
    service = ctx.container.compose_service
    seconds = settings.RECREATE_HEALTH_SECONDS if ctx.health_seconds is None else float(ctx.health_seconds)
    _compose(ctx, project, ["up", "-d", "--no-deps", service])
    new_id, verdict = watch(ctx.client, ctx.container.name, ctx.container.docker_id, seconds, ctx.where)
    if verdict == "ok":
        ctx.new_container_id, ctx.replaced = new_id, True
        ctx.step("compose", f"service {service} is {new_id[:12]} and passed the health gate")
        return
    ctx.progress.log(f"Failed: {verdict}; tagging the previous image back and re-upping {service}")
    repo, tag = engine_images.split_reference(ctx.run.from_ref)
    try:
        engine_images.tag_image(ctx.client, ctx.run.from_image_id, repo, tag)
        _compose(ctx, project, ["up", "-d", "--no-deps", service])
    except (EngineError, StepFailed) as exc:
        raise StepFailed(f"{verdict}; the rollback failed too: {exc}") from None
    try:  # compose made a container of its own for the previous image: that one runs now
        ctx.new_container_id = engine.inspect_container(ctx.client, ctx.container.name, where=ctx.where)["Id"]
    except EngineError:
        pass
    raise StepFailed(f"The new container failed the health gate: {verdict}", rolled_back=True)
