from celery import shared_task

from apps.activity.operations import OperationTask


@shared_task(name="ai.run_analysis", bind=True, base=OperationTask, soft_time_limit=300, time_limit=330)
def run_analysis(self, operation_id: int):
    from .services import perform_analysis

    return self.run_operation(operation_id, perform_analysis)


@shared_task(name="ai.apply_fix", bind=True, base=OperationTask, soft_time_limit=600, time_limit=660)
def apply_fix(self, operation_id: int):
    from .fixes import perform_fix

    return self.run_operation(operation_id, perform_fix)
