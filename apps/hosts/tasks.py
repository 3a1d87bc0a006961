from celery import shared_task

from apps.activity.operations import OperationTask

from . import services


@shared_task(name="hosts.sweep", bind=True, soft_time_limit=120, time_limit=150, ignore_result=True)
def sweep_hosts(self):
    """Health sweep (beat, every HOST_SWEEP_INTERVAL s): each host is served by one lease holder."""
    return services.sweep()


@shared_task(name="hosts.sync", bind=True, base=OperationTask, soft_time_limit=60, time_limit=90)
def sync_host(self, operation_id: int):
    return self.run_operation(operation_id, services.perform_sync)
