"""Retention prunes old events, audit records and finished operations, in batches."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.activity.models import AuditEvent, Event, Operation
from apps.activity.retention import prune_all
from apps.activity.tasks import prune_activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def aged(two_teams, settings):
    settings.PRUNE_BATCH_SIZE = 3
    settings.EVENT_RETENTION_DAYS = settings.AUDIT_RETENTION_DAYS = settings.OPERATION_RETENTION_DAYS = 10
    team, now = two_teams["a"]["team"], timezone.now()
    old, recent = now - timedelta(days=11), now - timedelta(days=9)
    for when, n in ((old, 7), (recent, 2)):
        Event.objects.bulk_create([Event(team=team, kind="k", occurred_at=when) for _ in range(n)])
        AuditEvent.objects.bulk_create([AuditEvent(team=team, action="create", object_type="x", created_at=when) for _ in range(n)])
        Operation.objects.bulk_create(
            [Operation(team=team, kind="k", status="succeeded", created_at=when, finished_at=when) for _ in range(n)]
        )
    # Old but unfinished: never pruned (it may still be running).
    Operation.objects.create(team=team, kind="k", status="running", created_at=old)
    return now


def test_prune_removes_only_old_rows_in_batches(aged):
    with CaptureQueriesContext(connection) as queries:
        counts = prune_all(now=aged)
    assert counts == {"events": 7, "audit": 7, "operations": 7}
    assert (Event.objects.count(), AuditEvent.objects.count()) == (2, 2)
    assert Operation.objects.filter(status="running").count() == 1 and Operation.objects.count() == 3
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("DELETE")]
    assert len(deletes) >= 9  # 7 rows in batches of 3 -> 3 deletes per table


def test_prune_task_runs_and_is_idempotent(aged):
    assert prune_activity.apply().get() == {"events": 7, "audit": 7, "operations": 7}
    assert prune_activity.apply().get() == {"events": 0, "audit": 0, "operations": 0}
