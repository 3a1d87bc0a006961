"""Portal pages: list, add (/hosts/add/), edit, delete, detail and the htmx connection test."""

import pytest
from django.urls import reverse

from apps.activity.models import AuditEvent
from apps.hosts.models import DockerHost

pytestmark = pytest.mark.django_db


def test_add_form_has_the_fields_and_button(client, two_teams):
    client.force_login(two_teams["a"]["admin"])
    assert reverse("hosts:create") == "/hosts/add/"
    resp = client.get("/hosts/add/")
    assert resp.status_code == 200
    html = resp.content.decode()
    for name in ("name", "url", "description", "tls_ca_cert", "tls_client_cert", "tls_client_key", "ssh_private_key"):
        assert f'name="{name}"' in html
    assert ">Add host</button>" in html


def test_only_admins_reach_add_edit_delete(client, two_teams, make_host):
    a = two_teams["a"]
    host = make_host(a["team"])
    client.force_login(a["operator"])
    assert client.get("/hosts/add/").status_code == 403
    assert client.get(f"/hosts/{host.pk}/edit/").status_code == 403
    assert client.post(f"/hosts/{host.pk}/delete/").status_code == 403
    client.force_login(two_teams["b"]["admin"])
    assert client.get(f"/hosts/{host.pk}/").status_code == 404
    assert client.post(f"/hosts/{host.pk}/delete/").status_code == 404
    assert DockerHost.objects.filter(pk=host.pk).exists()


def test_team_admin_gets_field_errors_not_500(client, two_teams, settings):
    settings.OUTBOUND_ALLOW = []
    client.force_login(two_teams["a"]["admin"])
    cases = {
        "unix:///var/run/docker.sock": "Only installation superusers may register unix:// hosts",
        "tcp://127.0.0.1:2376": "loopback addresses are not allowed",
        "tcp://169.254.169.254:2376": "cloud metadata addresses are not allowed",
        "tcp://" + "a" * 100_000: "at most 500 characters",
        "nonsense": "The URL needs a scheme",
    }
    for url, message in cases.items():
        resp = client.post("/hosts/add/", {"name": "h", "url": url})
        assert resp.status_code == 200, url  # the form page again, with field errors
        assert message in resp.content.decode(), url
    assert not DockerHost.objects.exists()


def test_create_redirects_to_detail_and_tests_once(client, two_teams):
    a = two_teams["a"]
    client.force_login(a["admin"])
    resp = client.post("/hosts/add/", {"name": "far", "url": "tcp://127.0.0.1:1", "description": "closed port"})
    host = DockerHost.objects.get(name="far")
    assert resp.status_code == 302 and resp["Location"] == f"/hosts/{host.pk}/"
    assert host.team == a["team"] and host.status == "down" and host.last_checked_at
    assert AuditEvent.objects.filter(name="test_connection", object_id=str(host.pk)).count() == 1
    page = client.get(resp["Location"]).content.decode()
    assert "Connection refused by 127.0.0.1:1" in page


def test_edit_keeps_secret_and_never_renders_it(client, two_teams, make_host):
    from tests.fixtures.engines import CertAuthority

    a = two_teams["a"]
    ca = CertAuthority.create("ca")
    cert, key = ca.issue("client", server=False)
    host = make_host(a["team"], "tcp://127.0.0.1:1", tls_ca_cert=ca.pem, tls_client_cert=cert, tls_client_key=key)
    client.force_login(a["admin"])
    html = client.get(f"/hosts/{host.pk}/edit/").content.decode()
    assert "PRIVATE KEY" not in html and "A key is stored." in html
    form = {"name": "renamed", "url": "tcp://127.0.0.1:1", "tls_ca_cert": ca.pem, "tls_client_cert": cert}
    assert client.post(f"/hosts/{host.pk}/edit/", form).status_code == 302
    host.refresh_from_db()
    assert host.name == "renamed" and host.tls_client_key == key  # blank keeps the stored key
    # Switching to plain tcp:// without certificates drops the stale key rather than keeping it.
    assert client.post(f"/hosts/{host.pk}/edit/", {"name": "renamed", "url": "tcp://127.0.0.1:1"}).status_code == 302
    host.refresh_from_db()
    assert host.tls_client_key == ""


def test_delete(client, two_teams, make_host):
    a = two_teams["a"]
    host = make_host(a["team"])
    client.force_login(a["admin"])
    assert "Delete host" in client.get(f"/hosts/{host.pk}/delete/").content.decode()
    assert client.post(f"/hosts/{host.pk}/delete/").status_code == 302
    assert not DockerHost.objects.filter(pk=host.pk).exists()


def test_detail_test_button_htmx_and_roles(client, two_teams, make_host):
    a = two_teams["a"]
    host = make_host(a["team"], "tcp://127.0.0.1:1")
    client.force_login(a["viewer"])
    page = client.get(f"/hosts/{host.pk}/").content.decode()
    assert "Test connection" not in page
    assert client.post(f"/hosts/{host.pk}/test/").status_code == 403
    client.force_login(a["operator"])
    assert "Test connection" in client.get(f"/hosts/{host.pk}/").content.decode()
    resp = client.post(f"/hosts/{host.pk}/test/", HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert resp.status_code == 200 and "<html" not in body
    assert "Connection failed:" in body and "Connection refused by 127.0.0.1:1" in body
    assert 'hx-swap-oob="true"' in body and "Down" in body


@pytest.mark.docker
def test_superuser_adds_local_engine_and_sees_its_facts(client, two_teams, superuser, docker_socket):
    import docker

    client.force_login(superuser)
    resp = client.post("/hosts/add/", {"name": "local", "url": docker_socket})
    host = DockerHost.objects.get(name="local")
    assert resp.status_code == 302 and host.status == "up"
    version = docker.DockerClient(base_url=docker_socket, version="1.41").version()["Version"]
    body = client.post(f"/hosts/{host.pk}/test/", HTTP_HX_REQUEST="true").content.decode()
    assert f"{version} (API" in body and "CPUs" in body and "running" in body
