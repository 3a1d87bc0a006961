"""Audit: who changed what, from where (ui/api/admin/task), with secrets masked; engine-state
writes with no person behind them are not audited."""

import pytest
from django.test import Client

from apps.activity import operations
from apps.activity.models import AuditEvent
from apps.core import actor as actor_ctx
from apps.core.fields import MASK
from apps.core.roles import Role
from apps.hosts.models import DockerHost

from ..pem import tls_client_pair
from .tasks_for_tests import WORK, run_test_work

pytestmark = pytest.mark.django_db
KEY = "-----BEGIN PRIVATE KEY-----\nAUDITSECRETLINE0123456789\n-----END PRIVATE KEY-----"


def host_audits(**filters):
    return AuditEvent.objects.filter(object_type="hosts.dockerhost", **filters)


def test_api_update_records_before_after_masked_with_request_id(two_teams, api_client):
    team, admin = two_teams["a"]["team"], two_teams["a"][Role.ADMIN]
    client = api_client(admin)
    cert, key = tls_client_pair()
    body = {"team": team.pk, "name": "h", "url": "tcp://127.0.0.1:1", "tls_client_cert": cert, "tls_client_key": key}
    resp = client.post("/api/v1/hosts/", body, format="json")
    assert resp.status_code == 201, resp.content
    resp = client.patch(f"/api/v1/hosts/{resp.json()['id']}/", {"description": "new"}, format="json", HTTP_X_REQUEST_ID="req42abc")
    assert resp.status_code == 200 and resp["X-Request-ID"] == "req42abc"
    created = host_audits(action="create").get()
    assert created.after["tls_client_key"] == MASK and created.before is None
    update = host_audits(action="update").get()
    assert (update.via, update.request_id, update.actor_id, update.team_id) == ("api", "req42abc", admin.pk, team.pk)
    assert update.before["description"] == "" and update.after["description"] == "new"
    assert update.before["tls_client_key"] == MASK == update.after["tls_client_key"]
    assert key.splitlines()[1] not in str(AuditEvent.objects.values_list("before", "after"))


def test_ui_change_is_audited_with_via_ui(two_teams):
    admin = two_teams["a"][Role.ADMIN]
    client = Client()
    client.force_login(admin)
    resp = client.post("/accounts/team/", {"name": "Renamed", "time_zone": "Europe/Berlin"})
    assert resp.status_code == 302
    audit = AuditEvent.objects.get(object_type="accounts.team", action="update")
    assert audit.via == "ui" and audit.actor_name == admin.username and audit.request_id == resp["X-Request-ID"]
    assert (audit.before["time_zone"], audit.after["time_zone"]) == ("UTC", "Europe/Berlin")


def test_unchanged_save_is_not_an_update(two_teams):
    host = DockerHost.objects.create(team=two_teams["a"]["team"], name="h", url="tcp://127.0.0.1:1")
    with actor_ctx.acting(actor_ctx.actor_for_user(two_teams["a"][Role.ADMIN], "ui")):
        host.save()
    assert not host_audits(action="update").exists()


def test_engine_state_writes_without_actor_are_not_audited(two_teams):
    with actor_ctx.acting(None):
        host = DockerHost.objects.create(team=two_teams["a"]["team"], name="h", url="tcp://127.0.0.1:1")
        host.status = DockerHost.Status.UP
        host.save()
    with actor_ctx.acting(actor_ctx.Actor(user_id=None, via="system")):
        host.engine_version = "20.10"
        host.save()
    assert not host_audits().exists()


def test_task_acting_for_a_user_audits_with_via_task(two_teams, django_capture_on_commit_callbacks):
    team, operator = two_teams["a"]["team"], two_teams["a"][Role.OPERATOR]

    def work(op, progress):
        DockerHost.objects.create(team=op.team, name="from-task", url="tcp://127.0.0.1:1", ssh_private_key=KEY)
        return {"ok": True}

    WORK["fn"] = work
    with django_capture_on_commit_callbacks(execute=True):
        op = operations.start(team=team, kind="test.audit", task=run_test_work, user=operator)
    op.refresh_from_db()
    assert op.status == "succeeded", op.error
    audit = host_audits(action="create").get()
    assert (audit.via, audit.actor_id, audit.team_id) == ("task", operator.pk, team.pk)
    assert audit.after["ssh_private_key"] == MASK


def test_system_task_is_not_audited(two_teams, django_capture_on_commit_callbacks):
    WORK["fn"] = lambda op, progress: DockerHost.objects.create(team=op.team, name="sys", url="tcp://127.0.0.1:1") and {}
    with django_capture_on_commit_callbacks(execute=True):
        op = operations.start(team=two_teams["a"]["team"], kind="test.system", task=run_test_work, user=None)
    op.refresh_from_db()
    assert op.status == "succeeded" and DockerHost.objects.filter(name="sys").exists()
    assert not host_audits().exists()


def test_record_action_names_the_action(two_teams):
    from apps.activity.audit import record_action

    host = DockerHost.objects.create(team=two_teams["a"]["team"], name="h", url="tcp://127.0.0.1:1")
    with actor_ctx.acting(actor_ctx.actor_for_user(two_teams["a"][Role.ADMIN], "api", "rid1")):
        record_action("test_connection", host, {"ok": False})
    audit = AuditEvent.objects.get(action="action")
    assert (audit.name, audit.object_id, audit.after, audit.request_id) == ("test_connection", str(host.pk), {"ok": False}, "rid1")
