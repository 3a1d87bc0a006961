"""Storage target pages in headless Chromium: the form shows field errors in place (htmx
swaps the 400 partial), good input saves and goes back to the backups page, where Check
answers in place; a viewer sees the list without buttons."""

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership, Team
from apps.backups.models import Backup, StorageTarget
from apps.core.roles import Role
from apps.hosts.models import DockerHost

from .conftest import PASSWORD, login, screenshot

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def backup_team(e2e_db):
    team = Team.objects.create(name="Vault Team", slug="vault-team")
    admin = get_user_model().objects.create_user("vault_admin", password=PASSWORD)
    viewer = get_user_model().objects.create_user("vault_viewer", password=PASSWORD)
    Membership.objects.create(user=admin, team=team, role=Role.ADMIN)
    Membership.objects.create(user=viewer, team=team, role=Role.VIEWER)
    return team, admin, viewer


def test_storage_target_form_bad_then_good_then_check(new_context, backup_team, request):
    team, admin, viewer = backup_team
    page = new_context().new_page()
    login(page, admin.username)

    page.goto("/backups/")
    page.locator("#storage-targets a:has-text('New storage target')").click()
    page.wait_for_selector("#target-form")
    page.fill("input[name=name]", "nightly-offsite")
    page.select_option("select[name=kind]", "local")
    page.fill("input[name=prefix]", "../../etc")
    page.click("#target-form button[type=submit]")
    error = page.locator("#target-form .field-error .errorlist")
    error.wait_for()
    assert "no '..'" in error.inner_text()
    assert page.input_value("input[name=name]") == "nightly-offsite", "the rest of the input stays"
    screenshot(page, request, "target-error")
    assert not StorageTarget.objects.filter(team=team).exists()

    page.fill("input[name=prefix]", "offsite/nightly")
    page.click("#target-form button[type=submit]")
    page.wait_for_url("**/backups/**")
    section = page.locator("#storage-targets")
    section.wait_for()
    assert "nightly-offsite" in section.inner_text() and "offsite/nightly" in section.inner_text()
    target = StorageTarget.objects.get(team=team, name="nightly-offsite")
    assert target.kind == "local" and target.prefix == "offsite/nightly"

    section.locator("button:has-text('Check')").click()
    result = page.locator(f"#target-check-{target.pk}")
    result.locator(".badge").wait_for()
    assert "reachable" in result.inner_text()
    screenshot(page, request, "targets-list")

    page.goto("/backups/")  # the backup form offers the new target
    assert page.locator("select[name=storage_target] option", has_text="nightly-offsite").count() == 1

    # an imported backup (no host): the verify form offers the team's hosts for the drill
    host = DockerHost.objects.create(team=team, name="vault-host", url="tcp://127.0.0.1:1")
    backup = Backup.objects.create(team=team, kind="volume", target_name="vault-data", status="completed", folder="f/x",
                                   storage_target=target)
    page.goto(f"/backups/{backup.pk}/")
    select = page.locator("#drill-host")
    assert [t.strip() for t in select.locator("option").all_inner_texts()] == ["choose a host", "vault-host"]
    assert "nightly-offsite" in page.locator("dl.facts").inner_text()
    screenshot(page, request, "imported-detail")
    assert host.pk

    other = new_context().new_page()
    login(other, viewer.username)
    other.goto("/backups/")
    text = other.locator("#storage-targets").inner_text()
    assert "nightly-offsite" in text and other.locator("#storage-targets button").count() == 0
    assert other.locator("#storage-targets a:has-text('New storage target')").count() == 0
