"""Thin Celery tasks: ids in, Operations out (DESIGN.md)."""

from celery import shared_task

from apps.activity.operations import OperationTask
from apps.engine.errors import TransientEngineError

from . import services


@shared_task(name="scans.scan_image", bind=True, base=OperationTask, soft_time_limit=1800, time_limit=1900,
             autoretry_for=(TransientEngineError,), retry_backoff=True, max_retries=3)
def scan_image(self, operation_id: int):
    return self.run_operation(operation_id, services.perform_scan)


@shared_task(name="scans.audit_container", bind=True, base=OperationTask, soft_time_limit=60, time_limit=90)
def audit_container(self, operation_id: int):
    return self.run_operation(operation_id, services.perform_config_audit)


@shared_task(name="scans.import_database", bind=True, base=OperationTask, soft_time_limit=1800, time_limit=1900)
def import_database(self, operation_id: int):
    return self.run_operation(operation_id, services.perform_import)


@shared_task(name="scans.rescan_all", bind=True, soft_time_limit=300, time_limit=360, ignore_result=True)
def rescan_all(self):
    """Beat (SCANS_RESCAN_INTERVAL): scan every image in use; criticals publish scan.new_findings."""
    return services.rescan_all()
