"""Portal forms for update policies (per container, team default) and auto-update windows:
valid and invalid input (htmx 400 with field errors), role checks, 404 across teams, and the
pages that link to them (container panel, team settings)."""

import datetime as dt

import pytest
from django.urls import reverse

from apps.activity.models import AuditEvent
from apps.containers.models import Container
from apps.hosts.models import DockerHost
from apps.updates.models import UpdatePolicy, UpdateWindow

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(two_teams):
    for key in ("a", "b"):
        team = two_teams[key]["team"]
        host = DockerHost.objects.create(team=team, name=f"h-{key}", url="tcp://127.0.0.1:1")
        two_teams[key]["container"] = Container.objects.create(
            team=team, host=host, docker_id=key * 64, name=f"web-{key}", image="127.0.0.1:1/demo/app:1.0.0", state="running")
    return two_teams


def _policy_data(**overrides) -> dict:
    return {"strategy": "minor", "include_regex": r"^\d+\.\d+\.\d+$", "exclude_regex": "", "monitor_only": "on",
            "allow_prerelease": "on", "health_seconds": "30", **overrides}


def test_container_policy_saves_and_the_panel_links_to_it(client, world):
    a = world["a"]
    container = a["container"]
    url = reverse("updates:container_policy", args=[container.pk])
    client.force_login(a["admin"])
    page = client.get(reverse("containers:detail", args=[container.pk])).content.decode()
    assert url in page and "(the team default)" in page

    resp = client.post(url, _policy_data(), **HX)
    assert resp.status_code == 200 and resp["HX-Redirect"] == reverse("containers:detail", args=[container.pk])
    policy = UpdatePolicy.objects.get(container=container)
    assert (policy.strategy, policy.monitor_only, policy.allow_prerelease, policy.health_seconds) == ("minor", True, True, 30)
    assert policy.team_id == a["team"].pk
    audit = AuditEvent.objects.get(object_type__icontains="updatepolicy", object_id=str(policy.pk))
    assert audit.actor == a["admin"] and audit.action == "create"
    page = client.get(reverse("containers:detail", args=[container.pk])).content.decode()
    assert "(its own)" in page and "pre-releases" in page

    # Saving again edits the same row; a reset drops it (the team default applies again).
    client.post(url, _policy_data(strategy="major", monitor_only=""))
    assert UpdatePolicy.objects.get(container=container).strategy == "major"
    assert not UpdatePolicy.objects.get(container=container).monitor_only
    client.post(reverse("updates:policy_reset", args=[container.pk]))
    assert not UpdatePolicy.objects.filter(container=container).exists()


@pytest.mark.parametrize("field,value,fragment", [
    ("include_regex", "(unclosed", "Not a valid regular expression"),
    ("exclude_regex", "[a-", "Not a valid regular expression"),
    ("strategy", "newest", "Select a valid choice"),
    ("health_seconds", "-5", "greater than or equal to 0"),
])
def test_bad_policy_input_answers_400_with_the_field_error(client, world, field, value, fragment):
    a = world["a"]
    client.force_login(a["admin"])
    resp = client.post(reverse("updates:container_policy", args=[a["container"].pk]), _policy_data(**{field: value}), **HX)
    assert resp.status_code == 400
    body = resp.content.decode()
    assert fragment in body and 'id="policy-form"' in body and "<html" not in body  # the partial only
    assert f'name="{field}"' in body
    assert not UpdatePolicy.objects.exists()


def test_team_default_policy_from_team_settings(client, world):
    a = world["a"]
    client.force_login(a["admin"])
    settings_page = client.get(reverse("accounts:team_settings")).content.decode()
    assert reverse("updates:team_policy") in settings_page and reverse("updates:window_create") in settings_page
    resp = client.post(reverse("updates:team_policy"), _policy_data(strategy="patch"))
    assert resp.status_code == 302 and resp["Location"] == reverse("accounts:team_settings")
    default = UpdatePolicy.objects.get(team=a["team"], container__isnull=True)
    assert default.strategy == "patch"
    client.post(reverse("updates:team_policy"), _policy_data(strategy="digest"))
    assert UpdatePolicy.objects.filter(team=a["team"], container__isnull=True).count() == 1


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_change_policies_and_windows(client, world, role):
    a = world["a"]
    window = UpdateWindow.objects.create(team=a["team"], name="nightly", start=dt.time(2), duration_minutes=60)
    client.force_login(a[role])
    urls = [reverse("updates:container_policy", args=[a["container"].pk]), reverse("updates:team_policy"),
            reverse("updates:window_create"), reverse("updates:window_edit", args=[window.pk])]
    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url, _policy_data(strategy="major", name="x", start="01:00", duration_minutes="5")).status_code == 403, url
    assert client.post(reverse("updates:window_delete", args=[window.pk])).status_code == 403
    assert client.post(reverse("updates:policy_reset", args=[a["container"].pk])).status_code == 403
    assert not UpdatePolicy.objects.exists() and UpdateWindow.objects.filter(pk=window.pk).exists()
    # They still read the settings section and the panel, without the edit links.
    settings_page = client.get(reverse("accounts:team_settings")).content.decode()
    assert "nightly" in settings_page and reverse("updates:window_create") not in settings_page
    panel = client.get(reverse("containers:detail", args=[a["container"].pk])).content.decode()
    assert "edit policy" not in panel


def test_other_teams_objects_answer_404(client, world):
    a, b = world["a"], world["b"]
    window = UpdateWindow.objects.create(team=b["team"], name="b-window", start=dt.time(2), duration_minutes=60)
    client.force_login(a["admin"])
    assert client.get(reverse("updates:container_policy", args=[b["container"].pk])).status_code == 404
    assert client.post(reverse("updates:container_policy", args=[b["container"].pk]), _policy_data()).status_code == 404
    assert client.get(reverse("updates:window_edit", args=[window.pk])).status_code == 404
    assert client.post(reverse("updates:window_delete", args=[window.pk])).status_code == 404
    assert UpdateWindow.objects.filter(pk=window.pk).exists()


def _window_data(**overrides) -> dict:
    return {"name": "weeknights", "weekdays": ["0", "1", "2", "3", "4"], "start": "23:30", "duration_minutes": "90",
            "time_zone": "Europe/Berlin", "enabled": "on", **overrides}


def test_window_create_edit_delete(client, world):
    a = world["a"]
    client.force_login(a["admin"])
    resp = client.post(reverse("updates:window_create"), _window_data(), **HX)
    assert resp.status_code == 200 and resp["HX-Redirect"] == reverse("accounts:team_settings")
    window = UpdateWindow.objects.get(team=a["team"], name="weeknights")
    assert (window.weekdays, window.start, window.duration_minutes, window.time_zone) == ([0, 1, 2, 3, 4], dt.time(23, 30), 90, "Europe/Berlin")
    # Its own time zone decides: Monday 23:45 in Berlin is inside, 23:45 UTC (01:45 Tuesday there) is inside too (past midnight).
    berlin = dt.datetime(2026, 11, 30, 23, 45, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert window.contains(berlin, "UTC")
    assert not window.contains(dt.datetime(2026, 12, 5, 23, 45, tzinfo=dt.timezone(dt.timedelta(hours=1))), "UTC")  # a Saturday
    page = client.get(reverse("accounts:team_settings")).content.decode()
    assert "weeknights" in page and "Mon, Tue, Wed, Thu, Fri" in page and "Europe/Berlin" in page

    edit = reverse("updates:window_edit", args=[window.pk])
    assert 'value="23:30"' in client.get(edit).content.decode()
    client.post(edit, _window_data(weekdays=["5", "6"], time_zone=""))
    window.refresh_from_db()
    assert window.weekdays == [5, 6] and window.time_zone == ""
    client.post(reverse("updates:window_delete", args=[window.pk]))
    assert not UpdateWindow.objects.filter(pk=window.pk).exists()


@pytest.mark.parametrize("field,value,fragment", [
    ("time_zone", "Mars/Olympus", "not a known time zone"),
    ("start", "25:99", "Enter a valid time"),
    ("duration_minutes", "0", "greater than or equal to 1"),
    ("duration_minutes", "5000", "less than or equal to 1440"),
    ("weekdays", ["9"], "Select a valid choice"),
    ("name", "", "This field is required"),
])
def test_bad_window_input_answers_400_with_the_field_error(client, world, field, value, fragment):
    a = world["a"]
    client.force_login(a["admin"])
    resp = client.post(reverse("updates:window_create"), _window_data(**{field: value}), **HX)
    assert resp.status_code == 400
    body = resp.content.decode()
    assert fragment in body and 'id="window-form"' in body and "<html" not in body
    assert not UpdateWindow.objects.exists()


def test_window_names_are_unique_in_the_team(client, world):
    a, b = world["a"], world["b"]
    UpdateWindow.objects.create(team=a["team"], name="weeknights", start=dt.time(1), duration_minutes=30)
    UpdateWindow.objects.create(team=b["team"], name="other", start=dt.time(1), duration_minutes=30)
    client.force_login(a["admin"])
    resp = client.post(reverse("updates:window_create"), _window_data())
    assert resp.status_code == 400 and "already has a window with this name" in resp.content.decode()
    assert client.post(reverse("updates:window_create"), _window_data(name="other")).status_code == 302  # B's name is free for A
