"""Thin Celery tasks: ids in, the work in services."""

from celery import shared_task

from apps.activity.operations import OperationTask
from apps.engine.errors import TransientEngineError


@shared_task(bind=True, base=OperationTask, name="backups.operation", soft_time_limit=4 * 3600, time_limit=4 * 3600 + 120,
             autoretry_for=(TransientEngineError,), retry_backoff=True, max_retries=2)
def backup_operation(self, operation_id: int):
    """Backup, verify or restore (the Operation's kind says which)."""
    from . import services

    return self.run_operation(operation_id, services.perform)


@shared_task(name="backups.scheduled", soft_time_limit=60, time_limit=90)
def scheduled_backup(schedule_id: int):
    """Beat fires this per schedule: start the backup Operation as the schedule (no user)."""
    from .schedules import run_schedule

    return run_schedule(schedule_id)
