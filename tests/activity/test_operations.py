"""Operations: pending -> running -> succeeded/failed/cancelled, log lines, the cancel
endpoint (operator+), and idempotent re-runs."""

import pytest

from apps.activity import operations
from apps.activity.models import Operation
from apps.core.roles import Role

from .tasks_for_tests import WORK, run_test_work

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(two_teams, django_capture_on_commit_callbacks):
    def go(work, user=None):
        WORK["fn"], WORK["calls"] = work, 0
        with django_capture_on_commit_callbacks(execute=True):
            op = operations.start(team=two_teams["a"]["team"], kind="test.op", task=run_test_work, user=user, target_name="t")
        op.refresh_from_db()
        return op

    return go


def test_success_records_log_progress_and_result(run):
    seen = {}

    def work(op, progress):
        seen["status"] = Operation.objects.get(pk=op.pk).status
        progress.log("step one")
        progress.progress(0.5)
        progress.log("step two\n")
        return {"answer": 42}

    op = run(work)
    assert seen["status"] == "running"
    assert (op.status, op.result, op.progress, op.error) == ("succeeded", {"answer": 42}, 1.0, "")
    assert op.log == "step one\nstep two\n"
    assert op.started_at and op.finished_at and op.started_at <= op.finished_at


def test_failure_records_the_error_and_keeps_progress(run):
    def work(op, progress):
        progress.progress(0.25)
        raise RuntimeError("engine said no")

    op = run(work)
    assert (op.status, op.progress) == ("failed", 0.25)
    assert op.error == "RuntimeError: engine said no"


def test_cancel_while_running(run):
    def work(op, progress):
        assert operations.request_cancel(Operation.objects.get(pk=op.pk))
        progress.check_cancel()
        raise AssertionError("not reached")

    op = run(work)
    assert (op.status, op.cancel_requested, op.error) == ("cancelled", True, "Cancelled on request.")


def test_pending_cancel_is_immediate_and_the_task_then_skips(two_teams):
    op = Operation.objects.create(team=two_teams["a"]["team"], kind="test.op")
    assert operations.request_cancel(op)
    op.refresh_from_db()
    assert op.status == "cancelled" and op.finished_at
    WORK["fn"], WORK["calls"] = (lambda op, progress: {}), 0
    assert run_test_work.run(op.pk) is None and WORK["calls"] == 0
    assert operations.request_cancel(op) is False  # finished: nothing to cancel


def test_rerun_of_a_finished_operation_is_skipped(run):
    op = run(lambda op, progress: {"n": 1})
    assert WORK["calls"] == 1
    assert run_test_work.run(op.pk) is None
    assert WORK["calls"] == 1
    op.refresh_from_db()
    assert op.result == {"n": 1}


@pytest.mark.parametrize("role,status", [(Role.VIEWER, 403), (Role.OPERATOR, 200), (Role.ADMIN, 200)])
def test_cancel_endpoint_needs_operator(two_teams, api_client, role, status):
    op = Operation.objects.create(team=two_teams["a"]["team"], kind="test.op")
    resp = api_client(two_teams["a"][role]).post(f"/api/v1/operations/{op.pk}/cancel/")
    assert resp.status_code == status
    op.refresh_from_db()
    assert op.status == ("cancelled" if status == 200 else "pending")
    if status == 200:
        assert resp.json()["status"] == "cancelled"


def test_admin_request_cancel_action(two_teams):
    from django.test import Client

    op_a = Operation.objects.create(team=two_teams["a"]["team"], kind="test.op")
    viewer_op = Operation.objects.create(team=two_teams["b"]["team"], kind="test.op")
    operator = two_teams["a"][Role.OPERATOR]
    operator.is_staff = True
    operator.save()
    from apps.accounts.models import Membership

    Membership.objects.create(user=operator, team=two_teams["b"]["team"], role=Role.VIEWER)
    client = Client()
    client.force_login(operator)
    resp = client.post("/admin/activity/operation/", {"action": "request_cancel", "_selected_action": [op_a.pk, viewer_op.pk]})
    assert resp.status_code == 302
    op_a.refresh_from_db()
    viewer_op.refresh_from_db()
    assert op_a.status == "cancelled" and viewer_op.status == "pending"  # a viewer in team B may not cancel there


def test_cancel_is_audited_with_the_person(two_teams, api_client):
    from apps.activity.models import AuditEvent, Operation

    team = two_teams["a"]["team"]
    op = Operation.objects.create(team=team, kind="test.cancel")
    resp = api_client(two_teams["a"]["operator"]).post(f"/api/v1/operations/{op.pk}/cancel/")
    assert resp.status_code == 200
    audit = AuditEvent.objects.get(name="cancel", object_id=str(op.pk))
    assert audit.actor == two_teams["a"]["operator"] and audit.via == "api" and audit.team_id == team.pk
