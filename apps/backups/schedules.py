"""Backup schedules: a cron expression per schedule, kept in django-celery-beat's tables."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import BackupSchedule


def parse_cron(text: str) -> dict:
    """"m h dom mon dow" -> CrontabSchedule fields; bad input -> ValidationError."""
    from celery.schedules import crontab

    parts = (text or "").split()
    if len(parts) != 5:
        raise ValidationError("Give five fields: minute hour day-of-month month day-of-week (e.g. 0 3 * * *).")
    fields = dict(zip(("minute", "hour", "day_of_month", "month_of_year", "day_of_week"), parts, strict=True))
    try:
        crontab(**fields)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"Not a valid cron expression: {exc}") from None
    return fields


def sync_periodic_task(schedule: BackupSchedule) -> None:
    """Create or update the beat entry that fires this schedule."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    fields = parse_cron(schedule.cron)
    tz = getattr(schedule.team, "time_zone", None) or "UTC"
    crontab, _ = CrontabSchedule.objects.get_or_create(**fields, timezone=tz)
    with transaction.atomic():
        task = schedule.periodic_task or PeriodicTask(name=f"backup-schedule-{schedule.pk}")
        task.task, task.crontab, task.enabled = "backups.scheduled", crontab, schedule.enabled
        task.args = json.dumps([schedule.pk])
        task.save()
        if schedule.periodic_task_id != task.pk:
            BackupSchedule.objects.filter(pk=schedule.pk).update(periodic_task=task)
            schedule.periodic_task = task


def delete_periodic_task(schedule: BackupSchedule) -> None:
    if schedule.periodic_task_id:
        schedule.periodic_task.delete()


def run_schedule(schedule_id: int) -> int | None:
    from . import services

    schedule = BackupSchedule.objects.select_related("host", "team").filter(pk=schedule_id, enabled=True).first()
    if schedule is None:
        return None
    op = services._start(None, schedule.team, "backup.create", target_kind=schedule.kind, target_id=schedule.host_id,
                         target_name=schedule.target_name,
                         params={"host": schedule.host_id, "backup_kind": schedule.kind, "target": schedule.target_name,
                                 "encrypt": schedule.encrypt, "include_volumes": True, "commit": False, "schedule": schedule.pk,
                                 "incremental": schedule.incremental and schedule.kind == "volume",
                                 "storage_target": schedule.storage_target_id})
    return op.pk
