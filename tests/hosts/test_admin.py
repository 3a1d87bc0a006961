"""The admin: list, secrets write-only, the "Test connection" action (same service, same audit)."""

import pytest

from apps.activity.models import AuditEvent
from apps.hosts.models import DockerHost

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_admin(two_teams):
    user = two_teams["a"]["admin"]
    user.is_staff = True
    user.save()
    return user


def test_changelist_is_team_scoped(client, two_teams, staff_admin, make_host):
    make_host(two_teams["a"]["team"], name="mine")
    make_host(two_teams["b"]["team"], name="theirs")
    client.force_login(staff_admin)
    html = client.get("/admin/hosts/dockerhost/").content.decode()
    assert "mine" in html and "theirs" not in html


def test_change_form_never_shows_secrets(client, two_teams, staff_admin, make_host):
    host = make_host(two_teams["a"]["team"], tls_client_key="top-secret-key", ssh_private_key="")
    client.force_login(staff_admin)
    resp = client.get(f"/admin/hosts/dockerhost/{host.pk}/change/")
    assert resp.status_code == 200
    assert "top-secret-key" not in resp.content.decode()


def test_admin_validation_is_the_shared_one(client, two_teams, staff_admin):
    client.force_login(staff_admin)
    resp = client.post("/admin/hosts/dockerhost/add/", {"team": two_teams["a"]["team"].pk, "name": "x", "url": "unix:///var/run/docker.sock"})
    assert resp.status_code == 200
    assert "Only installation superusers may register unix:// hosts" in resp.content.decode()
    resp = client.post("/admin/hosts/dockerhost/add/", {"team": two_teams["a"]["team"].pk, "name": "x", "url": "tcp://127.0.0.1:1"})
    assert resp.status_code == 302
    assert DockerHost.objects.get(name="x").team == two_teams["a"]["team"]


def test_test_connection_action_uses_the_service_and_audits(client, two_teams, staff_admin, make_host):
    host = make_host(two_teams["a"]["team"], "tcp://127.0.0.1:1")
    client.force_login(staff_admin)
    resp = client.post(
        "/admin/hosts/dockerhost/", {"action": "test_connection", "_selected_action": [host.pk]}, follow=True
    )
    assert "down: Connection refused by 127.0.0.1:1" in resp.content.decode()
    audit = AuditEvent.objects.get(name="test_connection")
    assert audit.via == "admin" and audit.actor == staff_admin and audit.object_id == str(host.pk)
    host.refresh_from_db()
    assert host.status == "down"
