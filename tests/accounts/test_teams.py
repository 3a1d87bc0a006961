"""Team settings (UI and API), team creation by superusers, the team switcher and the
settings sections registry."""

import pytest
from django.template.loader import render_to_string

from apps.accounts.models import Membership, Team
from apps.core.registries import Panel, panels
from apps.core.roles import Role

pytestmark = pytest.mark.django_db


# --- settings -------------------------------------------------------------------------

def test_ui_time_zone_validation(client, two_teams):
    a = two_teams["a"]
    client.force_login(a["admin"])
    resp = client.post("/accounts/team/", {"name": "Team A", "time_zone": "Mars/Olympus"})
    assert resp.status_code == 200 and "not a known time zone" in resp.content.decode()
    resp = client.post("/accounts/team/", {"name": "Team A", "time_zone": "Z" * 100_000})
    assert resp.status_code == 200 and "errorlist" in resp.content.decode()
    resp = client.post("/accounts/team/", {})
    assert resp.status_code == 200 and "This field is required" in resp.content.decode()
    assert Team.objects.get(pk=a["team"].pk).time_zone == "UTC"
    assert client.post("/accounts/team/", {"name": "Team A", "time_zone": "Europe/Berlin"}).status_code == 302
    assert Team.objects.get(pk=a["team"].pk).time_zone == "Europe/Berlin"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_ui_only_admins_change_settings(client, two_teams, role):
    a = two_teams["a"]
    client.force_login(a[role])
    assert client.post("/accounts/team/", {"name": "Hijacked", "time_zone": "UTC"}).status_code == 403
    assert Team.objects.get(pk=a["team"].pk).name == "Team A"


def test_ui_rename_keeps_slugs_unique(client, two_teams):
    a, b = two_teams["a"], two_teams["b"]
    Team.objects.filter(pk=b["team"].pk).update(slug="renamed")
    client.force_login(a["admin"])
    assert client.post("/accounts/team/", {"name": "Renamed", "time_zone": "UTC"}).status_code == 302
    team = Team.objects.get(pk=a["team"].pk)
    assert team.name == "Renamed" and team.slug == "renamed-2"


def test_api_time_zone_validation(two_teams, api_client):
    a, b = two_teams["a"], two_teams["b"]
    admin = api_client(a["admin"])
    url = f"/api/v1/teams/{a['team'].pk}/"
    resp = admin.patch(url, {"time_zone": "Mars/Olympus"}, format="json")
    assert resp.status_code == 400 and "time_zone" in resp.json()["error"]["details"]
    resp = admin.patch(url, {"time_zone": "Z" * 100_000, "name": "N" * 100_000}, format="json")
    assert resp.status_code == 400 and {"time_zone", "name"} <= set(resp.json()["error"]["details"])
    resp = admin.patch(url, {"name": "Team B"}, format="json")  # taken
    assert resp.status_code == 400 and "name" in resp.json()["error"]["details"]
    resp = admin.patch(url, {"time_zone": "Asia/Tokyo", "name": "Alpha"}, format="json")
    assert resp.status_code == 200 and resp.json()["time_zone"] == "Asia/Tokyo" and resp.json()["slug"] == "alpha"
    assert api_client(a["viewer"]).patch(url, {"time_zone": "UTC"}, format="json").status_code == 403
    assert api_client(b["admin"]).patch(url, {"time_zone": "UTC"}, format="json").status_code == 404
    assert Team.objects.get(pk=a["team"].pk).time_zone == "Asia/Tokyo"


def test_api_lists_every_team_of_the_user_with_role(two_teams, make_user, api_client):
    a, b = two_teams["a"], two_teams["b"]
    both = make_user(a["team"], Role.OPERATOR, username="both")
    Membership.objects.create(team=b["team"], user=both, role=Role.VIEWER)
    rows = api_client(both).get("/api/v1/teams/").json()["results"]
    assert {(r["name"], r["role"]) for r in rows} == {("Team A", "operator"), ("Team B", "viewer")}


# --- creating teams ---------------------------------------------------------------------

def test_ui_superuser_creates_team_and_becomes_admin(client, superuser, two_teams):
    client.force_login(two_teams["a"]["admin"])
    assert client.get("/accounts/teams/new/").status_code == 403
    assert client.post("/accounts/teams/new/", {"name": "Nope", "time_zone": "UTC"}).status_code == 403
    client.force_login(superuser)
    assert client.get("/accounts/teams/new/").status_code == 200
    resp = client.post("/accounts/teams/new/", {"name": "Ops", "time_zone": "Bad/Zone"})
    assert resp.status_code == 200 and "not a known time zone" in resp.content.decode()
    resp = client.post("/accounts/teams/new/", {"name": "Team A", "time_zone": "UTC"})
    assert "already exists" in resp.content.decode()
    assert client.post("/accounts/teams/new/", {"name": "Ops", "time_zone": "Europe/Paris"}).status_code == 302
    team = Team.objects.get(name="Ops")
    assert team.slug == "ops" and team.time_zone == "Europe/Paris"
    assert Membership.objects.get(team=team, user=superuser).role == Role.ADMIN
    assert client.session["current_team_id"] == team.pk
    assert not Team.objects.filter(name="Nope").exists()


def test_api_create_team_superusers_only(two_teams, superuser, api_client):
    resp = api_client(two_teams["a"]["admin"]).post("/api/v1/teams/", {}, format="json")
    assert resp.status_code == 403  # before validation
    root = api_client(superuser)
    resp = root.post("/api/v1/teams/", {"name": "Platform", "time_zone": "Europe/Oslo"}, format="json")
    assert resp.status_code == 201 and resp.json()["role"] == "admin"
    team = Team.objects.get(pk=resp.json()["id"])
    assert Membership.objects.get(team=team, user=superuser).role == Role.ADMIN
    resp = root.post("/api/v1/teams/", {"time_zone": "Nowhere"}, format="json")
    assert resp.status_code == 400 and {"name", "time_zone"} <= set(resp.json()["error"]["details"])
    resp = root.post("/api/v1/teams/", {"name": "x" * 100_000}, format="json")
    assert resp.status_code == 400
    # A name whose slug is empty or taken still gets a unique slug.
    assert root.post("/api/v1/teams/", {"name": "platform!"}, format="json").json()["slug"] == "platform-2"
    assert root.post("/api/v1/teams/", {"name": "!!!"}, format="json").json()["slug"] == "team"


# --- the team switcher ------------------------------------------------------------------

def test_team_switcher(client, two_teams, make_user):
    a, b = two_teams["a"], two_teams["b"]
    both = make_user(a["team"], Role.ADMIN, username="both")
    Membership.objects.create(team=b["team"], user=both, role=Role.VIEWER)
    client.force_login(both)
    page = client.get("/accounts/team/").content.decode()
    assert "Team A — settings" in page and 'name="team"' in page  # the switcher in base.html
    resp = client.post("/accounts/team/switch/", {"team": b["team"].pk, "next": "/accounts/team/"})
    assert resp.status_code == 302 and resp["Location"] == "/accounts/team/"
    page = client.get("/accounts/team/").content.decode()
    assert "Team B — settings" in page
    assert "Invite by e-mail" not in page  # a viewer there


def test_team_switcher_refuses_other_teams_and_foreign_redirects(client, two_teams):
    a, b = two_teams["a"], two_teams["b"]
    client.force_login(a["admin"])
    resp = client.post("/accounts/team/switch/", {"team": b["team"].pk, "next": "https://evil.example/"})
    assert resp["Location"] == "/"
    assert "Team A — settings" in client.get("/accounts/team/").content.decode()
    for bad in ("x" * 100_000, "", "-1"):
        assert client.post("/accounts/team/switch/", {"team": bad}).status_code == 302
    assert client.get("/accounts/team/switch/").status_code == 405


# --- settings sections registry --------------------------------------------------------

@pytest.fixture
def section():
    def render(request, team):
        return render_to_string("accounts/partials/form_fields.html", {"form": None}) + f"quiet hours for {team.name}"

    panels.add("team_settings", Panel(order=10, name="test-quiet-hours", title="Quiet hours", render=render))
    panels.add("team_settings", Panel(order=20, name="test-hidden", title="Hidden section", render=lambda r, t: None))
    yield
    panels._by_page["team_settings"].pop("test-quiet-hours")
    panels._by_page["team_settings"].pop("test-hidden")


def test_settings_sections_from_the_registry(client, two_teams, section):
    client.force_login(two_teams["a"]["viewer"])
    page = client.get("/accounts/team/").content.decode()
    assert 'id="section-test-quiet-hours"' in page and "quiet hours for Team A" in page
    assert "Hidden section" not in page
