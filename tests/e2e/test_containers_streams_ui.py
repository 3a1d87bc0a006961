"""Container logs in headless Chromium: hostile log text renders as text (no dialog fires,
no markup), colours as classes; follow shows a line written after the page connected."""

import time

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership, Team
from apps.containers.models import Container
from apps.core.roles import Role
from apps.hosts.models import DockerHost
from tests.helpers import unique

from .conftest import PASSWORD, login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

HOSTILE = (
    "printf '<script>alert(1)</script>\\n'; "
    "printf '<img src=x onerror=alert(2)>\\n'; "
    "printf '\\033[31mred alert\\033[0m\\n'; "
    "printf 'bad \\377\\376 bytes\\n'; "
    "echo READY; sleep 300"
)


@pytest.fixture
def hostile_container(e2e_db, docker_socket, test_labels):
    import docker
    from docker.types import LogConfig

    team = Team.objects.create(name="Logs Team", slug="logs-team")
    viewer = get_user_model().objects.create_user("logs_viewer", password=PASSWORD)
    Membership.objects.create(user=viewer, team=team, role=Role.VIEWER)
    host = DockerHost.objects.create(team=team, name="local", url=docker_socket, status="up")
    client = docker.DockerClient(base_url=docker_socket, version="1.41", timeout=20)
    ct = client.containers.run("dockerforge/busybox:test", ["sh", "-c", HOSTILE], detach=True, labels=dict(test_labels),
                               name=unique("e2e-logs"), log_config=LogConfig(type="local"))
    deadline = time.monotonic() + 10
    while b"READY" not in client.api.logs(ct.id) and time.monotonic() < deadline:
        time.sleep(0.05)
    ct.reload()
    container = Container.objects.create(team=team, host=host, docker_id=ct.id, name=ct.name, state="running", inspect=ct.attrs)
    yield viewer, container, client, ct
    ct.remove(force=True)
    client.close()


def test_hostile_logs_render_as_text_and_follow_shows_new_lines(new_context, hostile_container, request):
    viewer, container, client, ct = hostile_container
    page = new_context().new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, viewer.username)
    page.goto(f"/containers/{container.pk}/logs/")
    lines = page.locator("[data-log-lines]")
    text = lines.inner_text()
    assert "<script>alert(1)</script>" in text
    assert "<img src=x onerror=alert(2)>" in text
    assert "bad \ufffd\ufffd bytes" in text
    assert lines.locator("script, img").count() == 0
    red = lines.locator("span.ansi-fg-1")
    assert red.inner_text() == "red alert"
    assert page.evaluate("getComputedStyle(document.querySelector('span.ansi-fg-1')).color") != page.evaluate(
        "getComputedStyle(document.querySelector('[data-log-lines]')).color"
    )
    # Follow: a line (hostile too) written after the socket connected appears, as text.
    page.check("[data-log-follow-toggle]")
    page.wait_for_selector("#log-lines[data-following=on]")
    ct.exec_run(["sh", "-c", "echo '<script>alert(3)</script> LIVE' > /proc/1/fd/1"])
    page.wait_for_function("document.querySelector('[data-log-lines]').innerText.includes('LIVE')")
    assert "<script>alert(3)</script> LIVE" in lines.inner_text()
    assert lines.locator("script").count() == 0
    # Filters over htmx: only matching lines.
    page.uncheck("[data-log-follow-toggle]")
    page.fill("input[name=q]", "ALERT")
    page.click("#log-filters button[type=submit]")
    page.wait_for_function("!document.querySelector('[data-log-lines]').innerText.includes('bad ')")
    assert "red alert" in lines.inner_text()
    screenshot(page, request)
    page.wait_for_timeout(300)
    assert dialogs == []
