from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import AuditEvent, Event, Operation


def prune_model(queryset, batch_size: int) -> int:
    """Delete in batches so a big backlog never holds a long write lock (SQLite)."""
    total = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return total
        total += queryset.model.objects.filter(pk__in=ids).delete()[0]


def prune_all(now=None) -> dict[str, int]:
    now = now or timezone.now()
    batch = settings.PRUNE_BATCH_SIZE
    return {
        "events": prune_model(Event.objects.filter(occurred_at__lt=now - timedelta(days=settings.EVENT_RETENTION_DAYS)), batch),
        "audit": prune_model(
            AuditEvent.objects.filter(created_at__lt=now - timedelta(days=settings.AUDIT_RETENTION_DAYS)), batch
        ),
        "operations": prune_model(
            Operation.objects.filter(
                status__in=Operation.FINISHED,
                finished_at__lt=now - timedelta(days=settings.OPERATION_RETENTION_DAYS),
            ),
            batch,
        ),
    }
