"""API and pages without the engine: roles, validation endpoint, editor, .env masking, CLI."""

import os
import stat

import pytest

from apps.compose import cli, files
from apps.compose.models import ComposeProject, StackFolder
from apps.compose.services import create_project
from apps.containers.models import Container
from apps.hosts.models import DockerHost

from .conftest import busybox_stack

pytestmark = pytest.mark.django_db
SECRET = "very-secret-value"


@pytest.fixture
def host(two_teams):
    # A host row only: nothing here talks to an engine (images: "unknown").
    return DockerHost.objects.create(team=two_teams["a"]["team"], name="h", url="tcp://127.0.0.1:1")


@pytest.fixture
def project(two_teams, host):
    return create_project(two_teams["a"]["admin"], host, "demo", busybox_stack(), f"SECRET_TOKEN={SECRET}\n")


def test_validate_endpoint_returns_locations(api_client, two_teams):
    r = api_client(two_teams["a"]["viewer"]).post("/api/v1/compose/validate/", {"content": "services:\n  a:\n    image: x\n    foo: 1\n"}, format="json")
    assert r.status_code == 200
    body = r.json()
    assert body["valid"] is False
    assert body["errors"][0]["line"] == 4 and "foo" in body["errors"][0]["message"]


def test_validate_endpoint_warns_about_ports_busy_on_the_host(api_client, two_teams, host):
    Container.objects.create(team=host.team, host=host, docker_id="c1", name="other", state="running",
                             ports=[{"private": 80, "protocol": "tcp", "host_ip": "0.0.0.0", "public": 8080}])
    r = api_client(two_teams["a"]["viewer"]).post("/api/v1/compose/validate/", {
        "content": "services:\n  a:\n    image: x\n    ports: ['8080:80']\n", "host": host.pk}, format="json")
    warnings = r.json()["warnings"]
    assert any("already taken on the host by container 'other'" in w["message"] and w["line"] == 4 for w in warnings)


def test_validate_endpoint_hides_other_teams_hosts(api_client, two_teams, host):
    r = api_client(two_teams["b"]["admin"]).post("/api/v1/compose/validate/", {"content": "services: {}\n", "host": host.pk}, format="json")
    assert r.status_code == 404


@pytest.mark.parametrize("role,expected", [("viewer", 403), ("operator", 403)])
def test_only_admins_edit_files(api_client, two_teams, project, role, expected):
    r = api_client(two_teams["a"][role]).post(f"/api/v1/compose-projects/{project.pk}/files/", {"compose": busybox_stack()}, format="json")
    assert r.status_code == expected


def test_viewer_may_not_operate_and_other_team_gets_404(api_client, two_teams, project):
    assert api_client(two_teams["a"]["viewer"]).post(f"/api/v1/compose-projects/{project.pk}/up/").status_code == 403
    assert api_client(two_teams["b"]["admin"]).post(f"/api/v1/compose-projects/{project.pk}/up/").status_code == 404
    assert api_client(two_teams["b"]["admin"]).get(f"/api/v1/compose-projects/{project.pk}/").status_code == 404


def test_invalid_files_are_refused_with_field_errors(api_client, two_teams, project):
    r = api_client(two_teams["a"]["admin"]).post(f"/api/v1/compose-projects/{project.pk}/files/",
                                                 {"compose": "services:\n  a:\n    image: x\n    depends_on: [b]\n"}, format="json")
    assert r.status_code == 400 and "undefined service 'b'" in str(r.json())


def test_unknown_service_is_a_field_error(api_client, two_teams, project):
    r = api_client(two_teams["a"]["operator"]).post(f"/api/v1/compose-projects/{project.pk}/stop/", {"service": "nope"}, format="json")
    assert r.status_code == 400 and "no service 'nope'" in str(r.json())


def test_bad_project_names_are_refused(api_client, two_teams, host):
    r = api_client(two_teams["a"]["admin"]).post("/api/v1/compose-projects/", {"host": host.pk, "name": "Bad Name!", "compose": busybox_stack()}, format="json")
    assert r.status_code == 400 and "name" in str(r.json())


def test_versions_rollback_and_diff(two_teams, project):
    from apps.compose import services

    admin = two_teams["a"]["admin"]
    v2 = services.save_files(admin, project, busybox_stack().replace("3600", "7200"))
    assert v2.number == 2 and "7200" in open(project.main_file).read()
    assert "+    command: [\"sleep\", \"7200\"]" in services.diff_against_deployed(project, v2.compose_text)
    v3 = services.rollback(admin, project, project.versions.get(number=1))
    assert v3.number == 3 and "7200" not in open(project.main_file).read()


def test_pages_render_and_env_editor_is_for_admins(client, two_teams, project):
    client.force_login(two_teams["a"]["operator"])
    detail = client.get(f"/stacks/{project.pk}/")
    assert detail.status_code == 200 and b"<svg" in detail.content and b'data-name="web"' in detail.content
    assert client.get(f"/stacks/{project.pk}/env/").status_code == 403
    assert client.get(f"/stacks/{project.pk}/edit/").status_code == 403
    client.force_login(two_teams["a"]["admin"])
    env_page = client.get(f"/stacks/{project.pk}/env/").content.decode()
    assert "SECRET_TOKEN=••••••" in env_page and SECRET not in env_page
    assert client.get("/stacks/").status_code == 200 and client.get("/stacks/templates/").status_code == 200


def test_editor_validates_on_the_fly(client, two_teams, project):
    client.force_login(two_teams["a"]["admin"])
    r = client.post("/stacks/validate/", {"compose": "services:\n  a:\n    image: x\n    networks: [nope]\n", "project_id": project.pk},
                    HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "line 4, column 16" in r.content.decode() and "undefined network" in r.content.decode()


def test_stack_folders_are_discovered(two_teams, host, tmp_path):
    from apps.compose import discovery

    local = DockerHost.objects.create(team=host.team, name="local", url="unix:///var/run/docker.sock")
    (tmp_path / "app1").mkdir()
    (tmp_path / "app1" / "compose.yaml").write_text(busybox_stack())
    (tmp_path / "empty").mkdir()
    StackFolder.objects.create(host=local, path=str(tmp_path))
    [found] = discovery.from_folders(local)
    assert (found.name, found.source, found.files_reachable) == ("app1", "folder", True)
    # A remote host that cannot be reached: said clearly, the discovery carries on without it
    # (tests/compose/test_remote_folders.py reads a reachable one).
    StackFolder.objects.create(host=host, path="/opt/stacks")
    assert discovery.from_folders(host) == []
    with pytest.raises(files.RemoteFolderUnavailable):
        files.list_folder(host, "/opt/stacks")


def test_cli_environment_for_a_tls_host_is_private_and_minimal(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/bundle.pem")
    monkeypatch.setenv("SECRET_KEY", "portal-secret")
    host = DockerHost(name="tls", url="tcp://127.0.0.1:2376", tls_ca_cert="CA", tls_client_cert="CERT", tls_client_key="KEY")
    with cli.environment(host) as env:
        certs = env["DOCKER_CERT_PATH"]
        assert env["DOCKER_HOST"] == "tcp://127.0.0.1:2376" and env["DOCKER_TLS_VERIFY"] == "1"
        assert not ({"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SECRET_KEY", "DATABASE_URL"} & set(env))
        assert stat.S_IMODE(os.stat(certs).st_mode) == 0o700
        assert open(os.path.join(certs, "key.pem")).read() == "KEY"
        assert stat.S_IMODE(os.stat(os.path.join(certs, "key.pem")).st_mode) == 0o600
    assert not os.path.exists(certs)


def test_a_missing_cli_is_a_clear_error(monkeypatch, tmp_path, settings):
    settings.COMPOSE_CLI = "auto"
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(cli.ComposeCLIMissing, match="No Compose CLI"):
        cli.detect_cli()
    assert cli.cli_version() is None


@pytest.mark.docker
def test_a_compose_cli_is_found_here():
    assert os.path.basename(cli.detect_cli()[-1]) in ("docker-compose", "compose")
    name, version = cli.cli_version()
    assert name in ("docker-compose", "docker compose") and version[0].isdigit()


def test_ssh_hosts_are_refused_clearly():
    with pytest.raises(cli.ComposeError, match="ssh://"):
        with cli.environment(DockerHost(name="s", url="ssh://u@127.0.0.1:22")):
            pass


def test_admin_lists_stacks_for_staff_members(client, two_teams, project):
    admin = two_teams["a"]["admin"]
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    assert client.get("/admin/compose/composeproject/").status_code == 200
    page = client.get(f"/admin/compose/composefileversion/{project.versions.first().pk}/change/").content.decode()
    assert SECRET not in page
    assert ComposeProject.objects.count() == 1
