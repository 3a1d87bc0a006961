"""Operations: a user-visible background job and the Celery task base that runs one.

`start(...)` authorizes nothing itself (the app's request_* service does), records the
Operation and queues its task after commit. `OperationTask` sets the actor, marks the
operation running/succeeded/failed, and gives the work log, progress and cancel checks.
"""

import logging

import celery
from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from apps.core import actor as actor_ctx
from apps.core.broadcast import broadcast_to_team, object_group, send_now

from .models import Operation

logger = logging.getLogger(__name__)
MAX_LOG_CHARS = 1_000_000


class OperationCancelled(Exception):
    pass


def start(*, team, kind: str, task, user=None, target_kind="", target_id="", target_name="", params=None) -> Operation:
    op = Operation.objects.create(
        team=team,
        kind=kind,
        target_kind=target_kind,
        target_id=str(target_id),
        target_name=str(target_name)[:300],
        params=params or {},
        created_by=user if user is not None and user.is_authenticated else None,
    )
    transaction.on_commit(lambda: task.delay(op.pk))
    broadcast_to_team(team.pk, {"type": "operation", "id": op.pk, "status": op.status})
    return op


def request_cancel(op: Operation) -> bool:
    """Ask a pending or running operation to stop; a pending one is cancelled at once."""
    if op.is_finished:
        return False
    from .audit import record_action

    Operation.objects.filter(pk=op.pk).update(cancel_requested=True)
    record_action("cancel", op, {"status": op.status})
    Operation.objects.filter(pk=op.pk, status=Operation.Status.PENDING).update(
        status=Operation.Status.CANCELLED, finished_at=timezone.now()
    )
    broadcast_to_team(op.team_id, {"type": "operation", "id": op.pk})
    return True


class Progress:
    """Handed to the work function: log lines, progress, cancellation."""

    def __init__(self, op: Operation):
        self.op = op

    def log(self, line: str) -> None:
        line = line.rstrip("\n") + "\n"
        Operation.objects.filter(pk=self.op.pk).update(log=Concat(F("log"), Value(line)))
        send_now(object_group("operation", self.op.pk), {"type": "log", "line": line})

    def progress(self, fraction: float) -> None:
        fraction = max(0.0, min(1.0, fraction))
        Operation.objects.filter(pk=self.op.pk).update(progress=fraction)
        send_now(object_group("operation", self.op.pk), {"type": "progress", "progress": fraction})

    def check_cancel(self) -> None:
        if Operation.objects.filter(pk=self.op.pk, cancel_requested=True).exists():
            raise OperationCancelled()


class OperationTask(celery.Task):
    """Base for tasks that run one Operation: `def run(self, operation_id)` calls
    `self.run_operation(operation_id, work)` where `work(op, progress)` returns a result dict."""

    abstract = True

    def run_operation(self, operation_id: int, work) -> dict | None:
        # Claim: only a pending operation starts (idempotent under redelivery).
        claimed = Operation.objects.filter(pk=operation_id, status=Operation.Status.PENDING, cancel_requested=False).update(
            status=Operation.Status.RUNNING, started_at=timezone.now()
        )
        if not claimed:
            logger.info("operation %s is not pending; skipping", operation_id)
            return None
        op = Operation.objects.select_related("created_by", "team").get(pk=operation_id)
        user = op.created_by
        actor = actor_ctx.Actor(
            user_id=user.pk if user else None, username=user.get_username() if user else "", via="task"
        )
        progress = Progress(op)
        status, result, error = Operation.Status.SUCCEEDED, {}, ""
        with actor_ctx.acting(actor):
            try:
                result = work(op, progress) or {}
            except OperationCancelled:
                status, error = Operation.Status.CANCELLED, "Cancelled on request."
            except SoftTimeLimitExceeded:
                status, error = Operation.Status.FAILED, "Timed out."
            except Exception as exc:  # noqa: BLE001 - the operation records every failure
                logger.exception("operation %s (%s) failed", op.pk, op.kind)
                status, error = Operation.Status.FAILED, f"{exc.__class__.__name__}: {exc}"
        Operation.objects.filter(pk=op.pk).update(
            status=status,
            result=result,
            error=error[:10000],
            finished_at=timezone.now(),
            progress=1.0 if status == Operation.Status.SUCCEEDED else F("progress"),
        )
        send_now(object_group("operation", op.pk), {"type": "status", "status": status})
        broadcast_to_team(op.team_id, {"type": "operation", "id": op.pk, "status": status})
        return result
