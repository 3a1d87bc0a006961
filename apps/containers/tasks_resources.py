"""Celery tasks for image, volume and network operations, and the one way to queue them.

Tasks take an Operation id only; what to do is the Operation's kind and params (JSON). The
perform function for a kind is looked up in PERFORMERS, which images.py, volumes.py and
networks.py fill at import time.

Events: a change the engine reports itself (pull, tag, delete; volume and network create and
destroy) is stored once, by the events listener, as `<kind>.<engine action>`; the operation
only pushes a team refresh (`announce`). `publish_outcome` is for what the engine has no
event for: builds, prunes, network (dis)connects.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from celery import shared_task
from django.core.exceptions import PermissionDenied
from django.urls import NoReverseMatch, reverse

from apps.activity import operations
from apps.activity.audit import record_action
from apps.activity.operations import OperationTask
from apps.core import events
from apps.core.api import user_may
from apps.core.broadcast import broadcast_to_team
from apps.core.roles import Action
from apps.engine.errors import TransientEngineError

# Operation kind -> work(op, progress) -> result dict
PERFORMERS: dict[str, Callable] = {}
# Kinds that may run long (pulls, builds) use the long task; the rest the short one.
LONG_KINDS = {"image.pull", "image.build"}


def performer(kind: str):
    def decorator(fn):
        PERFORMERS[kind] = fn
        return fn

    return decorator


def authorize(user, team_id: int, action: str = Action.OPERATE) -> None:
    if not user_may(user, team_id, action):
        raise PermissionDenied("Your role in this team does not allow this action.")


def start_operation(user, host, kind: str, *, target_kind: str, target_id="", target_name="", params: dict | None = None):
    """Authorize (operator+ on the host's team), audit the request and queue the Operation."""
    authorize(user, host.team_id)
    params = {"host": host.pk, **(params or {})}
    task = long_operation if kind in LONG_KINDS else short_operation
    op = operations.start(
        team=host.team, kind=kind, task=task, user=user, target_kind=target_kind,
        target_id=target_id or host.pk, target_name=target_name or host.name, params=params,
    )
    record_action(kind, host, {"operation": op.pk, **_audit_params(params)})
    return op


def host_client(host, timeout: float | None = None) -> contextlib.AbstractContextManager:
    """A client for the host whose connection pool is closed afterwards."""
    from .sync import engine_client

    return engine_client(host, timeout=timeout)


def op_host(op):
    from apps.hosts.models import DockerHost

    return DockerHost.objects.get(pk=op.params["host"])


def url_for(name: str, pk) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # the page may not be wired in every deployment of the app
        return ""


def announce(host, kind: str, row) -> None:
    """Tell the team's open pages to re-fetch (kind and id only)."""
    broadcast_to_team(host.team_id, {"type": kind, "id": getattr(row, "pk", None)})


def publish_outcome(event: str, host, row, name: str, summary: str, data: dict | None = None) -> None:
    """An Event for an outcome the engine reports no event of its own for (module docstring);
    `row` (with `name`) is its target, None for a host-wide one such as a prune."""
    kind = event.partition(".")[0]
    target = events.ref(kind, row, name, row.labels) if row else None
    events.publish(event, host.team_id, host=host, target=target, summary=summary,
                   url=url_for(f"containers:{kind}_detail", row.pk) if row else "", data=data or {})


def _audit_params(params: dict) -> dict:
    # Build contexts and Dockerfiles are large: the audit records what was asked, not the bytes.
    return {k: v for k, v in params.items() if k not in ("dockerfile_text", "context_file")}


def _work(op, progress):
    from . import images, networks, volumes  # noqa: F401 - fill PERFORMERS

    try:
        fn = PERFORMERS[op.kind]
    except KeyError:
        raise RuntimeError(f"No work is defined for operations of kind {op.kind!r}") from None
    return fn(op, progress)


@shared_task(
    name="containers.resource_operation", bind=True, base=OperationTask, soft_time_limit=120, time_limit=150,
    autoretry_for=(TransientEngineError,), retry_backoff=True, max_retries=3,
)
def short_operation(self, operation_id: int):
    """Tag/remove/prune images, create/remove/prune volumes and networks, (dis)connect."""
    return self.run_operation(operation_id, _work)


@shared_task(
    name="containers.image_transfer", bind=True, base=OperationTask, soft_time_limit=1800, time_limit=1860,
    autoretry_for=(TransientEngineError,), retry_backoff=True, max_retries=3,
)
def long_operation(self, operation_id: int):
    """Pulls and builds: as long as the layers take."""
    return self.run_operation(operation_id, _work)
