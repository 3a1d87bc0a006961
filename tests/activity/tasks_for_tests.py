"""Celery tasks used by the activity tests (registered on import; run eagerly in tests)."""

from celery import shared_task

from apps.activity.operations import OperationTask

# What the next run of `run_test_work` does: a function(op, progress) set by the test.
WORK = {"fn": None, "calls": 0}


@shared_task(name="tests.activity.run_test_work", bind=True, base=OperationTask)
def run_test_work(self, operation_id):
    def work(op, progress):
        WORK["calls"] += 1
        return WORK["fn"](op, progress)

    return self.run_operation(operation_id, work)
