"""Thin Celery tasks: ids in, Operations out (DESIGN.md). No autoretry: a half-done update is
rolled back by the run itself, and repeating it is a person's (or the next window's) call."""

from celery import shared_task

from apps.activity.operations import OperationTask

from . import runs, services

# Pull + scan + health gate (+ the grace for a starting health check).
RUN_LIMITS = {"soft_time_limit": 3000, "time_limit": 3060}


@shared_task(name="updates.run", bind=True, base=OperationTask, **RUN_LIMITS)
def update_container(self, operation_id: int):
    return self.run_operation(operation_id, runs.perform_update)


@shared_task(name="updates.rollback", bind=True, base=OperationTask, **RUN_LIMITS)
def rollback_container(self, operation_id: int):
    return self.run_operation(operation_id, runs.perform_rollback)


@shared_task(name="updates.check", bind=True, base=OperationTask, soft_time_limit=600, time_limit=660)
def check_operation(self, operation_id: int):
    return self.run_operation(operation_id, services.perform_check)


@shared_task(name="updates.check_all", bind=True, soft_time_limit=1800, time_limit=1860, ignore_result=True)
def check_all(self):
    """Beat (UPDATES_CHECK_INTERVAL): check every present container of every team."""
    return services.check_all()


@shared_task(name="updates.windows", bind=True, soft_time_limit=300, time_limit=360, ignore_result=True)
def run_windows(self):
    """Beat: start automatic updates in the teams' open windows."""
    return runs.run_windows()


@shared_task(name="updates.release_feed", bind=True, soft_time_limit=60, time_limit=90, ignore_result=True)
def release_feed(self):
    from .version import check_release_feed

    return check_release_feed(force=True)
