from celery import shared_task

from .retention import prune_all


@shared_task(name="activity.prune", bind=True, soft_time_limit=300, time_limit=330)
def prune_activity(self):
    return prune_all()
