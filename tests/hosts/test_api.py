"""The hosts API: validation shared with the form, role checks, test/ and sync/ actions."""

import pytest

from apps.activity.models import AuditEvent, Operation
from apps.hosts.models import DockerHost

pytestmark = pytest.mark.django_db


def _create(client, team, **body):
    return client.post("/api/v1/hosts/", {"team": team.pk, **body}, format="json")


def test_admin_creates_tcp_host_and_secrets_are_write_only(two_teams, api_client):
    from tests.fixtures.engines import CertAuthority

    a = two_teams["a"]
    ca = CertAuthority.create("ca")
    cert, key = ca.issue("client", server=False)
    resp = _create(api_client(a["admin"]), a["team"], name="edge", url="tcp://127.0.0.1:2376",
                   tls_ca_cert=ca.pem, tls_client_cert=cert, tls_client_key=key)
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert "tls_client_key" not in body and body["has_tls_client_key"] is True
    assert key not in resp.content.decode()
    host = DockerHost.objects.get(pk=body["id"])
    assert host.tls_client_key == key.strip() and host.team == a["team"]
    # PATCH without the key keeps it.
    resp = api_client(a["admin"]).patch(f"/api/v1/hosts/{host.pk}/", {"description": "edge box"}, format="json")
    assert resp.status_code == 200, resp.json()
    host.refresh_from_db()
    assert host.tls_client_key == key.strip() and host.description == "edge box"


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"url": "unix:///var/run/docker.sock"}, "url", "Only installation superusers"),
        ({"url": "ftp://127.0.0.1"}, "url", "Unsupported scheme"),
        ({"url": "tcp://127.0.0.1:2376/x"}, "url", "must not have a path"),
        ({"url": "tcp://" + "x" * 100_000}, "url", "no more than 500 characters"),
        ({"url": "tcp://127.0.0.1:2376", "tls_ca_cert": "x" * 100_000}, "tls_ca_cert", "no more than 20000 characters"),
        ({"url": "tcp://127.0.0.1:2376", "tls_ca_cert": "not pem"}, "tls_ca_cert", "not a PEM certificate"),
    ],
)
def test_bad_input_is_a_field_error(two_teams, api_client, body, field, message):
    a = two_teams["a"]
    resp = _create(api_client(a["admin"]), a["team"], name="h", **body)
    assert resp.status_code == 400
    details = resp.json()["error"]["details"]
    assert message in " ".join(details[field])


def test_team_admin_cannot_add_loopback_under_default_policy(two_teams, api_client, settings):
    settings.OUTBOUND_ALLOW = []
    a = two_teams["a"]
    for url in ("tcp://127.0.0.1:2376", "tcp://169.254.169.254:2376"):
        resp = _create(api_client(a["admin"]), a["team"], name="h", url=url)
        assert resp.status_code == 400
        assert "not allowed" in resp.json()["error"]["details"]["url"][0]
    assert not DockerHost.objects.exists()


def test_duplicate_name_in_team_is_rejected(two_teams, api_client, make_host):
    a = two_teams["a"]
    make_host(a["team"], name="dup")
    resp = _create(api_client(a["admin"]), a["team"], name="dup", url="tcp://127.0.0.1:3")
    assert resp.status_code == 400
    assert "already has a host named" in resp.json()["error"]["details"]["name"][0]


def test_operator_cannot_create_and_viewer_cannot_test(two_teams, api_client, make_host):
    a = two_teams["a"]
    assert _create(api_client(a["operator"]), a["team"], name="h", url="tcp://127.0.0.1:1").status_code == 403
    host = make_host(a["team"])
    assert api_client(a["viewer"]).post(f"/api/v1/hosts/{host.pk}/test/").status_code == 403
    assert api_client(a["viewer"]).post(f"/api/v1/hosts/{host.pk}/sync/").status_code == 403
    # Another team's host is invisible.
    assert api_client(two_teams["b"]["admin"]).post(f"/api/v1/hosts/{host.pk}/test/").status_code == 404


def test_operator_tests_connection_synchronously(two_teams, api_client, make_host):
    a = two_teams["a"]
    host = make_host(a["team"], "tcp://127.0.0.1:1")
    resp = api_client(a["operator"]).post(f"/api/v1/hosts/{host.pk}/test/")
    assert resp.status_code == 200
    body = resp.json()
    assert body["ok"] is False and body["status"] == "down"
    assert body["error"] == "Connection refused by 127.0.0.1:1: is the engine listening there?"
    assert AuditEvent.objects.filter(name="test_connection", actor=a["operator"], via="api").count() == 1


def test_sync_runs_as_an_operation(two_teams, api_client, make_host, django_capture_on_commit_callbacks):
    a = two_teams["a"]
    host = make_host(a["team"], "tcp://127.0.0.1:1")
    with django_capture_on_commit_callbacks(execute=True):
        resp = api_client(a["operator"]).post(f"/api/v1/hosts/{host.pk}/sync/")
    assert resp.status_code == 202
    op = Operation.objects.get(pk=resp.json()["operation"])
    assert resp["Location"].endswith(f"/api/v1/operations/{op.pk}/")
    assert op.kind == "host.sync" and op.target_id == str(host.pk)
    assert op.status == Operation.Status.FAILED and "Connection refused" in op.error
    host.refresh_from_db()
    assert host.status == "down"


@pytest.mark.docker
def test_superuser_registers_local_engine_and_tests_it(two_teams, superuser, api_client, docker_socket):
    import docker

    team = two_teams["a"]["team"]
    resp = _create(api_client(superuser), team, name="local", url=docker_socket)
    assert resp.status_code == 201, resp.json()
    body = api_client(superuser).post(f"/api/v1/hosts/{resp.json()['id']}/test/").json()
    assert body["ok"] is True
    assert body["info"]["version"] == docker.DockerClient(base_url=docker_socket, version="1.41").version()["Version"]


@pytest.mark.docker
def test_ssh_registration_pins_and_shows_fingerprint(two_teams, api_client, ssh_host_fields, ssh_server):
    a = two_teams["a"]
    resp = _create(api_client(a["admin"]), a["team"], name="ssh", **ssh_host_fields)
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert body["ssh_host_key"] == ssh_server.host_key_public.strip()
    assert body["ssh_host_key_fingerprint"].startswith("SHA256:") and "ssh_private_key" not in body
    assert api_client(a["operator"]).post(f"/api/v1/hosts/{body['id']}/test/").json()["ok"] is True
