"""Issue 7 acceptance: a policy blocking privileged containers stops a create through the UI
and the API with a clear message, and an admin's override is audited."""

import pytest

from apps.activity.models import AuditEvent, Operation
from apps.hosts.models import DockerHost
from apps.scans.models import Policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocked(two_teams):
    team = two_teams["a"]["team"]
    Policy.objects.create(team=team, name="No privileged", rule=Policy.Rule.NO_PRIVILEGED, enforcement="block")
    host = DockerHost.objects.create(team=team, name="local", url="unix:///var/run/docker.sock")
    return two_teams["a"], host


def test_api_create_is_blocked_then_an_admin_override_is_audited(blocked, api_client):
    members, host = blocked
    admin = api_client(members["admin"])
    body = {"host": host.pk, "image": "dockerforge/busybox:test", "name": "root-on-host", "privileged": True, "start": False}
    resp = admin.post("/api/v1/containers/", body, format="json")
    assert resp.status_code == 400
    assert "privileged containers are not allowed" in str(resp.json()["error"]["details"]["checks"]).lower()
    assert not Operation.objects.filter(kind="container.create").exists()
    # An operator may not override (nor ask for privileged at all).
    resp = api_client(members["operator"]).post("/api/v1/containers/", {**body, "override_policy": True}, format="json")
    assert resp.status_code in (400, 403) and not Operation.objects.filter(kind="container.create").exists()
    # The admin overrides: accepted, and the override is in the audit log with the reasons.
    resp = admin.post("/api/v1/containers/", {**body, "override_policy": True}, format="json")
    assert resp.status_code == 202, resp.json()
    audit = AuditEvent.objects.get(name="policy_override")
    assert audit.actor == members["admin"] and audit.team_id == host.team_id
    assert "privileged" in str(audit.after["overridden"]).lower()


def test_ui_create_is_blocked_with_the_reason_on_the_form(blocked, client):
    members, host = blocked
    client.force_login(members["admin"])
    resp = client.post(
        "/containers/new/", {"host": host.pk, "image": "dockerforge/busybox:test", "name": "root-on-host", "privileged": "on", "restart_policy": "no"}
    )
    assert resp.status_code in (200, 400)  # the form again, with the reason above it
    assert "Blocked by a policy" in resp.content.decode() and "privileged" in resp.content.decode().lower()
    assert not Operation.objects.filter(kind="container.create").exists()
    resp = client.post(
        "/containers/new/",
        {"host": host.pk, "image": "dockerforge/busybox:test", "name": "root-on-host", "privileged": "on", "restart_policy": "no", "override_policy": "on"},
    )
    assert resp.status_code == 302 and Operation.objects.filter(kind="container.create").exists()
    assert AuditEvent.objects.filter(name="policy_override", via="ui").exists()
