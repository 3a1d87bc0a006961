import pytest
from apps.containers import lifecycle
from apps.activity.models import Operation, AuditEvent

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

def test_smoke(make_container, two_teams, engine_client):
    row = make_container()
    assert row.state == "running"
    op = lifecycle.request_stop(two_teams["a"]["operator"], row, timeout=1)
    op.refresh_from_db()
    print(op.status, op.error, op.log)
    assert op.status == "succeeded"
    row.refresh_from_db()
    assert row.state == "exited"
