"""Thin Celery tasks: ids in, the work in services."""

from celery import shared_task

from apps.activity.operations import OperationTask

from . import discovery, services


@shared_task(bind=True, base=OperationTask, name="compose.operation", soft_time_limit=900, time_limit=960)
def compose_operation(self, operation_id: int):
    return self.run_operation(operation_id, services.perform)


@shared_task(name="compose.discover_all", soft_time_limit=240, time_limit=300)
def discover_all():
    """Refresh stacks on every host that answers (engine state: not audited)."""
    from apps.engine.errors import EngineError
    from apps.hosts.models import DockerHost

    seen = 0
    for host in DockerHost.objects.exclude(status=DockerHost.Status.DOWN):
        try:
            seen += len(discovery.discover_host(host))
        except EngineError:
            continue
    return seen
