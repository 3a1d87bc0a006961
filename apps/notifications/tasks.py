"""Thin Celery tasks: ids only, idempotent (every step claims its row with a conditional
UPDATE, so a duplicate or late task does nothing)."""

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Delivery


@shared_task(name="notifications.flush", bind=True, soft_time_limit=60, time_limit=90, ignore_result=True)
def flush(self, group_id: int):
    delivery = services.flush_group(group_id)
    return delivery.pk if delivery else None


@shared_task(name="notifications.deliver", bind=True, soft_time_limit=60, time_limit=90, ignore_result=True)
def deliver(self, delivery_id: int):
    delivery = services.deliver(delivery_id)
    if delivery is not None and delivery.status in Delivery.PENDING:
        # Retries (backoff, Retry-After, an empty token bucket) come back at their time;
        # the periodic tick catches them too if this worker dies first.
        wait = max(0.0, (delivery.next_attempt_at - timezone.now()).total_seconds())
        if not self.app.conf.task_always_eager:
            deliver.apply_async((delivery_id,), countdown=wait)
    return delivery.status if delivery else None


@shared_task(name="notifications.tick", bind=True, soft_time_limit=120, time_limit=150, ignore_result=True)
def tick(self):
    """Flush due groups and retry due deliveries from the persistent log."""
    flushed = services.flush_due()
    delivered = services.deliver_due()
    return {"flushed": len(flushed), "attempted": len(delivered)}
