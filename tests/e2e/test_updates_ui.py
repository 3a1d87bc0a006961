"""Update policy and auto-update window forms in headless Chromium: reached from the
container's update panel and the team settings page; bad input shows field errors in place
(htmx swaps the 400 partial), good input saves and goes back."""

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership, Team
from apps.containers.models import Container
from apps.core.roles import Role
from apps.hosts.models import DockerHost
from apps.updates.models import UpdatePolicy, UpdateWindow

from .conftest import PASSWORD, login, screenshot

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def admin_world(e2e_db):
    team = Team.objects.create(name="Green Team", slug="green-team")
    user = get_user_model().objects.create_user("green_admin", password=PASSWORD)
    Membership.objects.create(user=user, team=team, role=Role.ADMIN)
    host = DockerHost.objects.create(team=team, name="green-host", url="tcp://127.0.0.1:1")
    container = Container.objects.create(team=team, host=host, docker_id="c" * 64, name="green-web",
                                         image="127.0.0.1:1/demo/app:1.0.0", state="running")
    return user, team, container


def test_policy_and_window_forms(new_context, admin_world, request):
    user, team, container = admin_world
    page = new_context().new_page()
    login(page, user.username)

    page.goto(f"/containers/{container.pk}/")
    page.locator("#updates-panel a:has-text('edit policy')").click()
    page.wait_for_selector("#policy-form")
    page.check("input[name=strategy][value=minor]")
    page.fill("input[name=include_regex]", "(unclosed")
    page.click("#policy-form button[type=submit]")
    error = page.locator("#policy-form .field-error .errorlist")
    error.wait_for()
    assert "Not a valid regular expression" in error.inner_text()
    screenshot(page, request, "policy-error")
    assert not UpdatePolicy.objects.filter(container=container).exists()

    page.fill("input[name=include_regex]", r"^\d+\.\d+\.\d+$")
    page.check("input[name=allow_prerelease]")
    page.click("#policy-form button[type=submit]")
    page.wait_for_url(f"**/containers/{container.pk}/")
    assert "(its own)" in page.locator("#updates-panel").inner_text()
    policy = UpdatePolicy.objects.get(container=container)
    assert policy.strategy == "minor" and policy.allow_prerelease

    page.goto("/accounts/team/")
    page.locator("#updates-settings a:has-text('New window')").click()
    page.wait_for_selector("#window-form")
    page.fill("input[name=name]", "weeknights")
    for day in ("0", "2", "4"):
        page.check(f"input[name=weekdays][value='{day}']")
    page.fill("input[name=start]", "23:30")
    page.fill("input[name=duration_minutes]", "90")
    page.fill("input[name=time_zone]", "Mars/Olympus")
    page.click("#window-form button[type=submit]")
    error = page.locator("#window-form .field-error .errorlist")
    error.wait_for()
    assert "not a known time zone" in error.inner_text()
    assert page.locator("input[name=weekdays][value='2']").is_checked()  # the rest of the input stays
    screenshot(page, request, "window-error")

    page.fill("input[name=time_zone]", "Europe/Berlin")
    page.click("#window-form button[type=submit]")
    page.wait_for_url("**/accounts/team/")
    section = page.locator("#updates-settings").inner_text()
    assert "weeknights" in section and "Mon, Wed, Fri" in section and "Europe/Berlin" in section
    screenshot(page, request, "team-settings")
    window = UpdateWindow.objects.get(team=team)
    assert window.weekdays == [0, 2, 4] and window.duration_minutes == 90
