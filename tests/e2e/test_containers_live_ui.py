"""Live state in headless Chromium, with no events listener running: Stop on a container's
page changes its state badge without a reload (the operation's team push), and a stack's
graph node follows a service stopped by an operation (as a worker would run it)."""

import subprocess
import uuid

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership, Team
from apps.activity.models import Event
from apps.compose import services as compose_services
from apps.compose.models import ComposeProject
from apps.containers.sync import refresh_container
from apps.core.roles import Role
from apps.hosts.models import DockerHost
from tests.compose.conftest import busybox_stack
from tests.helpers import RUN_ID, unique

from .conftest import PASSWORD, login, screenshot, wait_live

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

LOOP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]


@pytest.fixture
def operator_team(e2e_db, docker_socket):
    team = Team.objects.create(name="Live Team", slug=unique("live-team"))
    operator = get_user_model().objects.create_user(unique("live_op"), password=PASSWORD)
    Membership.objects.create(user=operator, team=team, role=Role.OPERATOR)
    host = DockerHost.objects.create(team=team, name="local", url=docker_socket, status="up")
    return operator, host


@pytest.fixture
def running_container(operator_team, docker_socket, test_labels):
    import docker

    operator, host = operator_team
    client = docker.DockerClient(base_url=docker_socket, version="1.41", timeout=30)
    ct = client.containers.run("dockerforge/busybox:test", LOOP, detach=True, labels=dict(test_labels), name=unique("e2e-live"))
    yield operator, refresh_container(host, ct.id)
    ct.remove(force=True)
    client.close()


def test_stop_on_the_detail_page_changes_the_state_without_reload(new_context, running_container, request):
    operator, row = running_container
    page = new_context().new_page()
    login(page, operator.username)
    page.goto(f"/containers/{row.pk}/")
    wait_live(page)
    assert page.locator("#container-state").inner_text() == "Running"
    page.evaluate("window.__noReload = true")  # gone if the page navigates
    actions = page.locator(f"#container-actions-{row.pk}")
    actions.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function("document.querySelector('#container-state').innerText.trim() === 'Exited'")
    assert page.evaluate("window.__noReload") is True
    # The actions follow the state: Start is offered now, Stop is not.
    actions = page.locator(f"#container-actions-{row.pk}")
    assert actions.get_by_role("button", name="Start", exact=True).count() == 1
    assert actions.get_by_role("button", name="Stop", exact=True).count() == 0
    # One record of the change: no listener runs, and the operation stored no Event of its own.
    assert not Event.objects.filter(target_kind="container", target_id=str(row.pk)).exists()
    screenshot(page, request)


@pytest.fixture
def deployed_stack(operator_team, settings, tmp_path):
    operator, host = operator_team
    settings.COMPOSE_STACKS_DIR = tmp_path / "stacks"
    settings.COMPOSE_REGISTRY_CHECK = False
    admin = get_user_model().objects.create_user(unique("live_admin"), password=PASSWORD)
    Membership.objects.create(user=admin, team=host.team, role=Role.ADMIN)
    name = f"df{RUN_ID}{uuid.uuid4().hex[:6]}".lower().replace("_", "").replace("-", "")
    project = compose_services.create_project(admin, host, name, busybox_stack())
    try:
        op = compose_services.request_operation(operator, project, "up")
        op.refresh_from_db()
        assert op.status == "succeeded", op.error + op.log
        yield operator, ComposeProject.objects.get(pk=project.pk)
    finally:
        subprocess.run(["docker-compose", "-p", name, "down", "-v", "--remove-orphans"], cwd=project.working_dir,
                       capture_output=True, timeout=120)


def test_graph_node_follows_a_service_stop(new_context, deployed_stack, shared_layer, request):
    operator, project = deployed_stack
    page = new_context().new_page()
    login(page, operator.username)
    page.goto(f"/stacks/{project.pk}/")
    wait_live(page)
    web = "#stack-graph g[data-kind=service][data-name=web]"
    assert page.locator(web).get_attribute("data-state") == "running"
    page.evaluate("window.__noReload = true")
    op = compose_services.request_operation(operator, project, "stop", service="web")  # as a worker runs it
    op.refresh_from_db()
    assert op.status == "succeeded", op.error + op.log
    page.wait_for_function(f"document.querySelector('{web}').dataset.state === 'exited'")
    assert page.locator("#stack-graph g[data-kind=service][data-name=db]").get_attribute("data-state") == "running"
    assert page.evaluate("window.__noReload") is True
    screenshot(page, request)
