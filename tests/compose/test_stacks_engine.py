"""Acceptance on the real engine: deploy through the API, graph with live state, restart and
stop one service, down; a stack started by hand is discovered and taken over; masking."""

import subprocess

import pytest
from django.db import connection

from apps.activity.models import Event, Operation
from apps.compose.models import ComposeFileVersion, ComposeProject
from apps.containers.models import Container

from .conftest import busybox_stack

pytestmark = [pytest.mark.docker, pytest.mark.django_db]
SECRET = "s3cr3t-token-value"


def _engine_states(name: str) -> dict[str, str]:
    out = subprocess.run(["docker", "ps", "-a", "--filter", f"label=com.docker.compose.project={name}",
                          "--format", '{{.Label "com.docker.compose.service"}} {{.State}}'],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split() for line in out.splitlines())


def _op(response) -> Operation:
    assert response.status_code == 202, response.content
    return Operation.objects.get(pk=response.json()["operation"])


def _node_states(client, pk) -> dict[str, str]:
    nodes = client.get(f"/api/v1/compose-projects/{pk}/graph/").json()["nodes"]
    return {n["name"]: n["state"] for n in nodes if n["kind"] == "service"}


def test_deploy_through_api_graph_restart_stop_down(api_client, two_teams, local_host, project_name, compose_down,
                                                    django_capture_on_commit_callbacks, client, settings):
    admin = api_client(two_teams["a"]["admin"])
    operator = api_client(two_teams["a"]["operator"])
    created = admin.post("/api/v1/compose-projects/", {
        "host": local_host.pk, "name": project_name, "compose": busybox_stack(), "env": f"SECRET_TOKEN={SECRET}\n",
    }, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    compose_down(settings.COMPOSE_STACKS_DIR / two_teams["a"]["team"].slug / project_name, project_name)

    with django_capture_on_commit_callbacks(execute=True):
        op = _op(operator.post(f"/api/v1/compose-projects/{pk}/up/", {}, format="json"))
    op.refresh_from_db()
    assert op.status == "succeeded", op.error + op.log
    assert _engine_states(project_name) == {"db": "running", "web": "running"}
    assert _node_states(operator, pk) == {"db": "running", "web": "running"}
    assert ComposeFileVersion.objects.get(project_id=pk, number=1).deployed_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        op = _op(operator.post(f"/api/v1/compose-projects/{pk}/restart/", {"service": "web"}, format="json"))
    op.refresh_from_db()
    assert op.status == "succeeded" and "restart web" in op.log

    # The stack's logs: interleaved, the .env value masked (also in the operation log and events).
    lines = operator.get(f"/api/v1/compose-projects/{pk}/logs/?tail=50").json()["lines"]
    assert any("token=••••••" in line for line in lines) and not any(SECRET in line for line in lines)
    assert SECRET not in op.log
    assert not Event.objects.filter(summary__contains=SECRET).exists()

    with django_capture_on_commit_callbacks(execute=True):
        op = _op(operator.post(f"/api/v1/compose-projects/{pk}/stop/", {"service": "web"}, format="json"))
    op.refresh_from_db()
    assert op.status == "succeeded", op.error
    assert _node_states(operator, pk) == {"db": "running", "web": "exited"}
    client.force_login(two_teams["a"]["viewer"])
    partial = client.get(f"/stacks/{pk}/graph/").content.decode()
    assert 'data-name="web" data-state="exited"' in partial and 'hx-trigger="df:event from:body"' in partial
    assert Event.objects.filter(kind="compose.stop").exists()

    with django_capture_on_commit_callbacks(execute=True):
        op = _op(operator.post(f"/api/v1/compose-projects/{pk}/down/", {"volumes": True}, format="json"))
    op.refresh_from_db()
    assert op.status == "succeeded", op.error
    assert _engine_states(project_name) == {}
    assert not Container.objects.filter(compose_project=project_name).present().exists()


def test_env_is_encrypted_and_masked_in_api(api_client, two_teams, local_host, project_name):
    admin = api_client(two_teams["a"]["admin"])
    pk = admin.post("/api/v1/compose-projects/", {"host": local_host.pk, "name": project_name, "compose": busybox_stack(),
                                                  "env": f"SECRET_TOKEN={SECRET}\n"}, format="json").json()["id"]
    versions = admin.get(f"/api/v1/compose-projects/{pk}/versions/").json()
    assert versions[0]["env"] == "SECRET_TOKEN=••••••\n"
    with connection.cursor() as cursor:
        cursor.execute("SELECT env_text FROM compose_composefileversion WHERE project_id = %s", [pk])
        stored = cursor.fetchone()[0]
    assert SECRET not in stored and stored
    # A masked line keeps its value; a new value replaces it.
    project = ComposeProject.objects.get(pk=pk)
    r = admin.post(f"/api/v1/compose-projects/{pk}/files/", {"compose": busybox_stack(), "env": "SECRET_TOKEN=••••••\nOTHER=1\n"}, format="json")
    assert r.status_code == 201, r.content
    env_file = (project.working_dir + "/.env")
    assert open(env_file).read() == f"SECRET_TOKEN={SECRET}\nOTHER=1\n"


def test_stack_started_by_hand_is_discovered_and_taken_over(api_client, two_teams, local_host, project_name, tmp_path,
                                                           compose_down, django_capture_on_commit_callbacks):
    folder = tmp_path / "handmade"
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(busybox_stack())
    compose_down(folder, project_name)
    subprocess.run(["docker-compose", "-p", project_name, "up", "-d"], cwd=folder, check=True, capture_output=True, timeout=120)

    operator = api_client(two_teams["a"]["operator"])
    found = operator.post(f"/api/v1/compose-projects/discover/?host={local_host.pk}").json()
    [project] = [p for p in found if p["name"] == project_name]
    assert project["source"] == "labels" and project["files_reachable"] and not project["managed"]
    assert project["services"] == ["db", "web"] and project["working_dir"] == str(folder)

    # Taking over needs a team admin; then the file is version 1 and operations work.
    assert operator.post(f"/api/v1/compose-projects/{project['id']}/take-over/").status_code == 403
    admin = api_client(two_teams["a"]["admin"])
    taken = admin.post(f"/api/v1/compose-projects/{project['id']}/take-over/")
    assert taken.status_code == 200 and taken.json()["managed"]
    assert ComposeFileVersion.objects.get(project_id=project["id"]).compose_text == busybox_stack()
    with django_capture_on_commit_callbacks(execute=True):
        op = _op(operator.post(f"/api/v1/compose-projects/{project['id']}/stop/", {"service": "db"}, format="json"))
    op.refresh_from_db()
    assert op.status == "succeeded", op.error
    assert _engine_states(project_name)["db"] == "exited"


def test_template_deploy_into_a_new_folder(api_client, two_teams, local_host, project_name, compose_down,
                                          django_capture_on_commit_callbacks, settings):
    admin = api_client(two_teams["a"]["admin"])
    template = admin.post("/api/v1/templates/", {
        "name": "busybox pair", "compose_text": busybox_stack(),
        "variables": [{"name": "SECRET_TOKEN", "default": "", "secret": True}],
    }, format="json")
    assert template.status_code == 201, template.content
    missing = admin.post("/api/v1/templates/deploy/", {"template": str(template.json()["id"]), "host": local_host.pk,
                                                       "name": project_name}, format="json")
    assert missing.status_code == 400 and "SECRET_TOKEN" in str(missing.json())
    folder = settings.COMPOSE_STACKS_DIR / two_teams["a"]["team"].slug / project_name
    compose_down(folder, project_name)
    with django_capture_on_commit_callbacks(execute=True):
        r = admin.post("/api/v1/templates/deploy/", {"template": str(template.json()["id"]), "host": local_host.pk,
                                                     "name": project_name, "variables": {"SECRET_TOKEN": SECRET}, "up": True}, format="json")
    op = _op(r)
    op.refresh_from_db()
    assert op.status == "succeeded", op.error + op.log
    assert (folder / "compose.yaml").read_text() == busybox_stack()
    assert (folder / ".env").read_text() == f"SECRET_TOKEN={SECRET}\n"
    assert oct((folder / ".env").stat().st_mode & 0o777) == "0o600"
    assert _engine_states(project_name) == {"db": "running", "web": "running"}
