"""Issue 9, real engine + local registry: containers sharing the updated container's network
namespace (and Compose depends_on dependants) are recreated after it, pointing at the new id;
a Compose service updates through the Compose CLI with the health gate and rolls back."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from apps.activity.models import Event, Operation
from apps.compose import services as compose_services
from apps.containers.models import Container
from apps.containers.sync import sync_host
from apps.updates import runs
from apps.updates.models import UpdateRun
from tests.helpers import RUN_ID, TEST_LABEL, unique

from .conftest import BASE_IMAGE, HEALTHY, docker_client

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=False)]
SLEEPER = {"command": ["sleep", "3600"], "stop_signal": "SIGKILL"}


def _update(capture, user, container, **kwargs) -> UpdateRun:
    with capture(execute=True):
        op = runs.request_update(user, container, **kwargs)
    return UpdateRun.objects.get(operation=op)


def _log(run: UpdateRun) -> str:
    return f"{run.error}\n{Operation.objects.get(pk=run.operation_id).log}"


def _netns(inspect: dict) -> str:
    link = Path(f"/proc/{inspect['State']['Pid']}/ns/net").readlink()
    assert str(link).startswith("net:[")
    return str(link)


def test_network_namespace_sharers_follow_the_new_container(pusher, run_container, team_a, django_capture_on_commit_callbacks):
    old = pusher.push("demo/netns", "1.0.0")
    new = pusher.push("demo/netns", "1.0.1")
    owner = run_container(old, name=unique("upd-owner"))
    by_id = run_container(BASE_IMAGE, name=unique("upd-byid"), network_mode=f"container:{owner.docker_id}", **SLEEPER)
    by_name = run_container(BASE_IMAGE, name=unique("upd-byname"), network_mode=f"container:{owner.name}", **SLEEPER)
    bystander = run_container(BASE_IMAGE, name=unique("upd-other"), **SLEEPER)

    run = _update(django_capture_on_commit_callbacks, team_a["operator"], owner, target=new)
    assert run.status == "succeeded", _log(run)
    client = docker_client()
    new_id = client.api.inspect_container(owner.name)["Id"]
    assert new_id != owner.docker_id
    for dep in (by_id, by_name):
        data = client.api.inspect_container(dep.name)
        assert data["Id"] != dep.docker_id, dep.name
        assert data["HostConfig"]["NetworkMode"] == f"container:{new_id}"
        assert data["State"]["Running"]
        assert _netns(data) == _netns(client.api.inspect_container(owner.name))  # really in its namespace
    assert client.api.inspect_container(bystander.name)["Id"] == bystander.docker_id  # not a dependant
    recreated = [s["detail"] for s in run.steps if s["step"] == "dependant"]
    assert [d.split()[1] for d in recreated] == sorted([by_id.name, by_name.name])
    assert all(d.startswith("recreated") for d in recreated)
    client.close()


def test_dependants_follow_the_old_container_after_a_rollback(pusher, run_container, team_a, django_capture_on_commit_callbacks):
    old = pusher.push("demo/netns-bad", "1.0.0")
    bad = pusher.push("demo/netns-bad", "1.0.1", cmd='["sh", "-c", "exit 3"]')
    owner = run_container(old, name=unique("upd-owner"))
    dep = run_container(BASE_IMAGE, name=unique("upd-dep"), network_mode=f"container:{owner.docker_id}", **SLEEPER)

    run = _update(django_capture_on_commit_callbacks, team_a["operator"], owner, target=bad)
    assert run.status == "rolled_back", _log(run)
    client = docker_client()
    assert client.api.inspect_container(owner.name)["Id"] == owner.docker_id
    data = client.api.inspect_container(dep.name)
    assert data["HostConfig"]["NetworkMode"] == f"container:{owner.docker_id}" and data["State"]["Running"]
    # The restarted owner got a new namespace; the dependant was recreated into it.
    assert _netns(data) == _netns(client.api.inspect_container(owner.name))
    client.close()


# --- Compose -------------------------------------------------------------------------------------

def _stack(ref: str) -> str:
    label = f'      {TEST_LABEL}: "{RUN_ID}"\n'
    sleeper = '    image: dockerforge/busybox:test\n    command: ["sleep", "3600"]\n    stop_signal: SIGKILL\n'
    return ("services:\n"
            f"  app:\n    image: {ref}\n    labels:\n{label}"
            f"  side:\n{sleeper}    network_mode: \"service:app\"\n    labels:\n{label}"
            f"  web:\n{sleeper}    depends_on: [app]\n    labels:\n{label}")


@pytest.fixture
def stack(host, team_a, settings, tmp_path, django_capture_on_commit_callbacks):
    """make(ref) -> {service: Container}: a stack created and upped through the compose app."""
    settings.COMPOSE_STACKS_DIR = tmp_path / "stacks"
    settings.COMPOSE_REGISTRY_CHECK = False
    made = []

    def make(ref: str) -> dict[str, Container]:
        name = f"dfupd{RUN_ID}{uuid.uuid4().hex[:6]}".lower().replace("_", "").replace("-", "")
        project = compose_services.create_project(team_a["admin"], host, name, _stack(ref))
        made.append(project)
        with django_capture_on_commit_callbacks(execute=True):
            op = compose_services.request_operation(team_a["operator"], project, "up")
        op.refresh_from_db()
        assert op.status == "succeeded", op.error + op.log
        sync_host(host)
        rows = Container.objects.filter(host=host, compose_project=name).present()
        return {c.compose_service: c for c in rows}

    yield make
    for project in made:
        subprocess.run(["docker-compose", "-p", project.name, "down", "-v", "--remove-orphans"], cwd=project.working_dir,
                       capture_output=True, timeout=120)


def _service(client, row: Container) -> dict:
    return client.api.inspect_container(row.name)


def test_compose_service_updates_through_the_cli_and_dependants_follow(pusher, stack, team_a, django_capture_on_commit_callbacks):
    ref = pusher.push("demo/stack", "1.0.0", extra=HEALTHY)
    rows = stack(ref)
    assert set(rows) == {"app", "side", "web"}
    client = docker_client()
    before = {name: _service(client, row) for name, row in rows.items()}
    new_ref = pusher.push("demo/stack", "1.0.0", extra=HEALTHY)  # a new digest of the running tag

    run = _update(django_capture_on_commit_callbacks, team_a["operator"], rows["app"], target=new_ref)
    assert run.status == "succeeded", _log(run)
    assert "$ compose up -d --no-deps app" in Operation.objects.get(pk=run.operation_id).log
    app = _service(client, rows["app"])
    assert app["Id"] != before["app"]["Id"] and app["Image"] == run.to_image_id != before["app"]["Image"]
    assert app["State"]["Health"]["Status"] == "healthy"
    assert app["Config"]["Labels"]["com.docker.compose.project"] == rows["app"].compose_project  # still the stack's
    side, web = _service(client, rows["side"]), _service(client, rows["web"])
    assert side["HostConfig"]["NetworkMode"] == f"container:{app['Id']}" and side["State"]["Running"]
    assert web["Id"] != before["web"]["Id"] and web["State"]["Running"]
    # In order: the namespace sharer first, then the depends_on dependant.
    assert [s["detail"].split()[1] for s in run.steps if s["step"] == "dependant"] == [rows["side"].name, rows["web"].name]
    # Compose still sees its three services running.
    out = subprocess.run(["docker-compose", "-p", rows["app"].compose_project, "ps", "--services", "--filter", "status=running"],
                         cwd=_project_dir(rows["app"]), capture_output=True, text=True, timeout=60)
    assert sorted(out.stdout.split()) == ["app", "side", "web"], out.stderr
    client.close()


def _project_dir(row: Container) -> str:
    from apps.compose.models import ComposeProject

    return ComposeProject.objects.get(host_id=row.host_id, name=row.compose_project).working_dir


def test_compose_service_that_fails_the_gate_is_rolled_back(pusher, stack, team_a, django_capture_on_commit_callbacks):
    ref = pusher.push("demo/stack-bad", "1.0.0", extra=HEALTHY)
    rows = stack(ref)
    client = docker_client()
    old_image = _service(client, rows["app"])["Image"]
    pusher.push("demo/stack-bad", "1.0.0", cmd='["sh", "-c", "exit 3"]')  # the same tag, now broken

    run = _update(django_capture_on_commit_callbacks, team_a["operator"], rows["app"], target=ref)
    assert run.status == "rolled_back", _log(run)
    app = _service(client, rows["app"])
    assert app["Image"] == old_image and app["State"]["Running"]
    assert client.api.inspect_image(ref)["Id"] == old_image  # the tag names the previous image again
    side = _service(client, rows["side"])
    assert side["HostConfig"]["NetworkMode"] == f"container:{app['Id']}" and side["State"]["Running"]
    event = Event.objects.get(kind="update.rolled_back", payload__data__run=run.pk)
    assert event.severity == "error"
    client.close()


def test_a_newer_tag_of_a_compose_service_is_refused_with_a_clear_message(pusher, stack, team_a, django_capture_on_commit_callbacks):
    ref = pusher.push("demo/stack-tag", "1.0.0")
    newer = pusher.push("demo/stack-tag", "1.1.0")
    rows = stack(ref)
    run = _update(django_capture_on_commit_callbacks, team_a["operator"], rows["app"], target=newer)
    assert run.status == "failed" and "Compose file" in run.error
    client = docker_client()
    assert _service(client, rows["app"])["Id"] == rows["app"].docker_id
    client.close()
