"""Headless Chromium: hostile names and labels render as text (no dialog fires), and a
container row's state updates live without a reload when the team socket reports it."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership, Team
from apps.containers.models import Container
from apps.core import events
from apps.core.roles import Role
from apps.hosts.models import DockerHost
from tests.e2e.conftest import PASSWORD, login, screenshot, wait_live
from tests.helpers import in_other_thread

pytestmark = [pytest.mark.e2e, pytest.mark.docker]
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def hostile(e2e_db):
    team = Team.objects.create(name="Red Team", slug="red-team")
    user = get_user_model().objects.create_user("red_viewer", password=PASSWORD)
    Membership.objects.create(user=user, team=team, role=Role.VIEWER)
    host = DockerHost.objects.create(team=team, name="remote", url="tcp://127.0.0.1:1", status="up")
    row = Container.objects.create(
        team=team, host=host, docker_id=uuid.uuid4().hex * 2, name=HOSTILE, image='"><img src=x onerror=alert(2)>',
        state="running", labels={HOSTILE: '<img src=x onerror=alert(3)>'}, compose_project=HOSTILE,
        inspect={"Config": {"Env": [f"{HOSTILE}=••••••"]}},
    )
    return user, team, host, row


def test_hostile_mirror_text_never_runs_and_rows_update_live(new_context, hostile, shared_layer, request):
    user, team, host, row = hostile
    page = new_context().new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, user.username)
    page.goto("/containers/")
    assert page.locator(f"#container-{row.pk} td a").first.inner_text() == HOSTILE
    page.goto(f"/containers/{row.pk}/")
    assert HOSTILE in page.locator("h1").inner_text()
    assert page.locator("#labels-title + table code").first.inner_text() == HOSTILE
    wait_live(page)
    page.evaluate("window.__dfNoReload = true")
    # The listener records an exit and publishes; the page re-fetches its live part.
    in_other_thread(lambda: Container.objects.filter(pk=row.pk).update(state="exited"))
    in_other_thread(lambda: events.publish("container.die", team.pk, host=host,
                                           target=events.ref("container", row, row.name, row.labels), summary="died"))
    page.wait_for_selector("#container-state.state-exited")
    assert page.evaluate("window.__dfNoReload === true")
    screenshot(page, request)
    assert dialogs == []
