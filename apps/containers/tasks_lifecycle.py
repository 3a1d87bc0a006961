"""Thin Celery tasks for container lifecycle Operations (ids only; the work is in lifecycle.py).

No autoretry: OperationTask records every failure on the Operation, and repeating a stop or
a remove after the engine went away mid-call is the person's decision, not the worker's.
"""

from celery import shared_task

from apps.activity.operations import OperationTask

from . import lifecycle

# A stop may wait its full grace period (up to an hour, see create_spec.parse_timeout).
ACTION_LIMITS = {"soft_time_limit": 3900, "time_limit": 3960}
# Recreate watches the new container: health seconds plus the grace for a starting check.
RECREATE_LIMITS = {"soft_time_limit": 1800, "time_limit": 1860}


@shared_task(name="containers.lifecycle_action", bind=True, base=OperationTask, **ACTION_LIMITS)
def container_action(self, operation_id: int):
    return self.run_operation(operation_id, lifecycle.perform_action)


@shared_task(name="containers.create", bind=True, base=OperationTask, soft_time_limit=300, time_limit=330)
def create_container(self, operation_id: int):
    return self.run_operation(operation_id, lifecycle.perform_create)


@shared_task(name="containers.recreate", bind=True, base=OperationTask, **RECREATE_LIMITS)
def recreate_container(self, operation_id: int):
    return self.run_operation(operation_id, lifecycle.perform_recreate)


@shared_task(name="containers.duplicate", bind=True, base=OperationTask, soft_time_limit=300, time_limit=330)
def duplicate_container(self, operation_id: int):
    return self.run_operation(operation_id, lifecycle.perform_duplicate)
