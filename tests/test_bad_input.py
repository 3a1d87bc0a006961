"""Bad input gets a clear field error — in the UI form (200, the form again with the error),
the admin add form, and the API (400, {"error": {"code": "invalid", "details": {field: [...]}}})
— and never a 500.

Hosts: the hosts form (/hosts/add/: name, url, description), the hosts admin and the API's
URL/duplicate validation come from the hosts branch (ids/names say `needs_hosts_branch`).
The contract asks the UI form to answer 200 with the error; the hosts view answers 400 on
an invalid form, so those cases fail until one of the two is changed (not skipped on purpose).
"""

import pytest
from django.test import Client

from apps.accounts.models import Membership
from apps.core.roles import Role
from apps.hosts.models import DockerHost

pytestmark = pytest.mark.django_db
HUGE = 100_000
OK_URL = "tcp://127.0.0.1:1"

# (id, body, the field that must carry the error). "needs_hosts_branch" marks cases whose
# validation the hosts branch adds (URL checks, the team-unique name).
HOST_CASES = [
    ("missing_name", {"url": OK_URL}, "name"),
    ("missing_url", {"name": "h1"}, "url"),
    ("huge_name", {"name": "n" * HUGE, "url": OK_URL}, "name"),
    ("huge_url", {"name": "h1", "url": "tcp://" + "a" * HUGE}, "url"),
    ("huge_description", {"name": "h1", "url": OK_URL, "description": "d" * HUGE}, "description"),
    ("needs_hosts_branch_malformed_url", {"name": "h1", "url": "not a url at all"}, "url"),
    ("needs_hosts_branch_wrong_scheme", {"name": "h1", "url": "http://127.0.0.1:2375"}, "url"),
    ("needs_hosts_branch_no_host", {"name": "h1", "url": "tcp://"}, "url"),
    ("needs_hosts_branch_duplicate_name", {"name": "taken", "url": OK_URL}, "name"),
]


def assert_api_field_error(resp, field):
    assert resp.status_code == 400, f"expected 400, got {resp.status_code}: {resp.content[:300]!r}"
    error = resp.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert isinstance(error["details"].get(field), list) and error["details"][field], error["details"]
    assert all(isinstance(m, str) and len(m) < 500 for m in error["details"][field])  # no echo of 100 kB


def assert_form_field_error(resp, form, field):
    assert resp.status_code == 200, f"expected the form again (200), got {resp.status_code}"
    messages = form.errors.get(field)
    assert messages, f"no error on {field!r}: {form.errors}"
    assert str(messages[0]).replace("'", "&#x27;").replace('"', "&quot;") in resp.content.decode()


@pytest.fixture
def team_a(two_teams):
    team = two_teams["a"]["team"]
    DockerHost.objects.create(team=team, name="taken", url=OK_URL)
    return two_teams["a"]


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("case,body,field", HOST_CASES, ids=[c[0] for c in HOST_CASES])
def test_host_api_bad_input(team_a, api_client, case, body, field):
    resp = api_client(team_a[Role.ADMIN]).post("/api/v1/hosts/", {"team": team_a["team"].pk, **body}, format="json")
    assert_api_field_error(resp, field)
    assert DockerHost.objects.count() == 1


@pytest.mark.parametrize("case,body,field", HOST_CASES, ids=[c[0] for c in HOST_CASES])
def test_host_ui_form_bad_input_needs_hosts_branch(team_a, case, body, field):
    """needs_hosts_branch (all cases): the host form at /hosts/add/."""
    resp = login(team_a[Role.ADMIN]).post("/hosts/add/", {"description": "", **body})
    assert resp.context is not None and "form" in resp.context, "the /hosts/add/ form view is not there yet"
    assert_form_field_error(resp, resp.context["form"], field)
    assert DockerHost.objects.count() == 1


@pytest.mark.parametrize("case,body,field", HOST_CASES, ids=[c[0] for c in HOST_CASES])
def test_host_admin_add_bad_input_needs_hosts_branch(team_a, superuser, case, body, field):
    """needs_hosts_branch (all cases): the DockerHost admin."""
    resp = login(superuser).post("/admin/hosts/dockerhost/add/", {"team": team_a["team"].pk, "description": "", **body})
    assert resp.status_code != 404, "the hosts admin is not registered yet"
    assert_form_field_error(resp, resp.context["adminform"].form, field)
    assert DockerHost.objects.count() == 1


# --- teams and members -------------------------------------------------------------

TEAM_CASES = [
    ("huge_name", {"name": "t" * HUGE}, "name"),
    ("empty_name", {"name": ""}, "name"),
    ("duplicate_name", {"name": "Team B"}, "name"),
    ("unknown_time_zone", {"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ("huge_time_zone", {"time_zone": "z" * HUGE}, "time_zone"),
]


@pytest.mark.parametrize("case,body,field", TEAM_CASES, ids=[c[0] for c in TEAM_CASES])
def test_team_api_bad_input(two_teams, api_client, case, body, field):
    team = two_teams["a"]["team"]
    resp = api_client(two_teams["a"][Role.ADMIN]).patch(f"/api/v1/teams/{team.pk}/", body, format="json")
    assert_api_field_error(resp, field)
    team.refresh_from_db()
    assert team.name == "Team A" and team.time_zone == "UTC"


@pytest.mark.parametrize("case,body,field", TEAM_CASES, ids=[c[0] for c in TEAM_CASES])
def test_team_settings_form_bad_input(two_teams, case, body, field):
    team = two_teams["a"]["team"]
    resp = login(two_teams["a"][Role.ADMIN]).post("/accounts/team/", {"name": team.name, "time_zone": team.time_zone, **body})
    assert_form_field_error(resp, resp.context["form"], field)


@pytest.mark.parametrize("case,body,field", TEAM_CASES, ids=[c[0] for c in TEAM_CASES])
def test_team_admin_add_bad_input(two_teams, superuser, case, body, field):
    data = {"name": "New team", "slug": "new-team", "time_zone": "UTC", **body}
    data.update({"memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0})
    resp = login(superuser).post("/admin/accounts/team/add/", data)
    assert_form_field_error(resp, resp.context["adminform"].form, field)


MEMBER_CASES = [
    ("unknown_user", {"username": "nobody-here"}, "username"),
    ("huge_username", {"username": "u" * HUGE}, "username"),
    ("missing_username", {}, "username"),
    ("already_member", {"username": "a_viewer"}, "username"),
    ("bad_role", {"username": "b_viewer", "role": "overlord"}, "role"),
]


@pytest.mark.parametrize("case,body,field", MEMBER_CASES, ids=[c[0] for c in MEMBER_CASES])
def test_member_api_bad_input(two_teams, api_client, case, body, field):
    before = Membership.objects.count()
    resp = api_client(two_teams["a"][Role.ADMIN]).post("/api/v1/members/", {"team": two_teams["a"]["team"].pk, **body}, format="json")
    assert_api_field_error(resp, field)
    assert Membership.objects.count() == before


@pytest.mark.parametrize("case,body,field", [c for c in MEMBER_CASES if c[0] in ("bad_role",)], ids=["bad_role"])
def test_member_admin_add_bad_input(two_teams, superuser, case, body, field):
    user = two_teams["b"][Role.VIEWER]
    resp = login(superuser).post("/admin/accounts/membership/add/", {"user": user.pk, "team": two_teams["a"]["team"].pk, "role": body["role"]})
    assert_form_field_error(resp, resp.context["adminform"].form, field)
