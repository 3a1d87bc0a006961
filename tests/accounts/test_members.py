"""Member rules, the same on the page and in the API (services.check_membership_change):
only admins change members, nobody changes their own role, a team keeps an admin."""

import pytest

from apps.accounts.models import Membership
from apps.core.roles import Role

pytestmark = pytest.mark.django_db


def membership(team, user) -> Membership:
    return Membership.objects.get(team=team, user=user)


# --- pages ----------------------------------------------------------------------------

def test_settings_page_lists_members_with_roles(client, two_teams):
    a = two_teams["a"]
    client.force_login(a["viewer"])
    html = client.get("/accounts/team/").content.decode()
    for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN):
        assert a[role].username in html
    assert "b_admin" not in html
    assert "Invite by e-mail" not in html  # viewers see no admin forms


def test_admin_adds_changes_and_removes_members(client, two_teams, make_user):
    a = two_teams["a"]
    newbie = make_user(username="newbie")
    client.force_login(a["admin"])
    assert client.post("/accounts/team/members/", {"username": "newbie", "role": Role.OPERATOR}).status_code == 302
    m = membership(a["team"], newbie)
    assert m.role == Role.OPERATOR
    assert client.post(f"/accounts/team/members/{m.pk}/role/", {"role": Role.ADMIN}).status_code == 302
    assert membership(a["team"], newbie).role == Role.ADMIN
    assert client.post(f"/accounts/team/members/{m.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=m.pk).exists()


def test_htmx_member_change_returns_the_members_partial(client, two_teams):
    a = two_teams["a"]
    client.force_login(a["admin"])
    m = membership(a["team"], a["viewer"])
    resp = client.post(f"/accounts/team/members/{m.pk}/role/", {"role": Role.OPERATOR}, HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert resp.status_code == 200 and html.lstrip().startswith('<section class="panel" id="members">')
    assert "is now operator" in html and "<html" not in html
    assert "HX-Request" in resp["Vary"]


def test_add_member_errors(client, two_teams):
    a = two_teams["a"]
    client.force_login(a["admin"])
    for data, text in [
        ({"username": "ghost", "role": Role.VIEWER}, "No active user"),
        ({"username": "a_viewer", "role": Role.VIEWER}, "already a member"),
        ({"username": "x" * 100_000, "role": "x" * 100_000}, "errorlist"),
        ({}, "errorlist"),
    ]:
        resp = client.post("/accounts/team/members/", data)
        assert resp.status_code == 200 and text in resp.content.decode()


def test_nobody_changes_their_own_role(client, two_teams, make_user):
    a = two_teams["a"]
    make_user(a["team"], Role.ADMIN, username="second_admin")
    client.force_login(a["admin"])
    own = membership(a["team"], a["admin"])
    assert client.post(f"/accounts/team/members/{own.pk}/role/", {"role": Role.VIEWER}).status_code == 403
    assert client.post(f"/accounts/team/members/{own.pk}/remove/").status_code == 403
    assert membership(a["team"], a["admin"]).role == Role.ADMIN


def test_last_admin_is_kept(client, two_teams, superuser):
    a = two_teams["a"]
    client.force_login(superuser)  # an installation superuser may act, but the rule holds
    client.post("/accounts/team/switch/", {"team": a["team"].pk})
    admin_m = membership(a["team"], a["admin"])
    resp = client.post(f"/accounts/team/members/{admin_m.pk}/role/", {"role": Role.VIEWER})
    assert resp.status_code == 200 and "at least one admin" in resp.content.decode()
    resp = client.post(f"/accounts/team/members/{admin_m.pk}/remove/")
    assert resp.status_code == 200 and "at least one admin" in resp.content.decode()
    assert membership(a["team"], a["admin"]).role == Role.ADMIN


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_viewer_and_operator_get_403_on_member_changes(client, two_teams, make_user, role):
    a = two_teams["a"]
    make_user(username="outsider")
    client.force_login(a[role])
    target = membership(a["team"], a["viewer"] if role != Role.VIEWER else a["operator"])
    assert client.post("/accounts/team/members/", {"username": "outsider", "role": Role.ADMIN}).status_code == 403
    assert client.post(f"/accounts/team/members/{target.pk}/role/", {"role": Role.ADMIN}).status_code == 403
    assert client.post(f"/accounts/team/members/{target.pk}/remove/").status_code == 403
    assert Membership.objects.filter(pk=target.pk).exists()
    assert not Membership.objects.filter(user__username="outsider").exists()


def test_other_teams_members_answer_404(client, two_teams):
    a, b = two_teams["a"], two_teams["b"]
    client.force_login(a["admin"])
    target = membership(b["team"], b["viewer"])
    assert client.post(f"/accounts/team/members/{target.pk}/role/", {"role": Role.ADMIN}).status_code == 404
    assert client.post(f"/accounts/team/members/{target.pk}/remove/").status_code == 404
    assert membership(b["team"], b["viewer"]).role == Role.VIEWER


# --- API ------------------------------------------------------------------------------

def test_api_member_rules(two_teams, api_client, make_user):
    a = two_teams["a"]
    admin = api_client(a["admin"])
    own = membership(a["team"], a["admin"])
    resp = admin.patch(f"/api/v1/members/{own.pk}/", {"role": "viewer"}, format="json")
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "permission_denied"
    assert admin.delete(f"/api/v1/members/{own.pk}/").status_code == 403
    # The last admin: another admin (a superuser) cannot demote or remove them either.
    root = make_user(username="root2", is_superuser=True)
    resp = api_client(root).patch(f"/api/v1/members/{own.pk}/", {"role": "viewer"}, format="json")
    assert resp.status_code == 400 and "role" in resp.json()["error"]["details"]
    assert api_client(root).delete(f"/api/v1/members/{own.pk}/").status_code == 400
    assert membership(a["team"], a["admin"]).role == Role.ADMIN
    # A membership's user cannot be swapped.
    viewer_m = membership(a["team"], a["viewer"])
    resp = admin.patch(f"/api/v1/members/{viewer_m.pk}/", {"username": "a_admin"}, format="json")
    assert resp.status_code == 400 and "username" in resp.json()["error"]["details"]
    assert admin.patch(f"/api/v1/members/{viewer_m.pk}/", {"role": "operator"}, format="json").status_code == 200
    assert membership(a["team"], a["viewer"]).role == Role.OPERATOR


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_api_viewer_and_operator_get_403(two_teams, api_client, role):
    a = two_teams["a"]
    client = api_client(a[role])
    target = membership(a["team"], a["admin"])
    assert client.patch(f"/api/v1/members/{target.pk}/", {"role": "viewer"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/members/{target.pk}/").status_code == 403
    assert client.post("/api/v1/members/", {"team": a["team"].pk}, format="json").status_code == 403
    assert client.get("/api/v1/members/").json()["count"] == 3


def test_api_add_member_and_bad_input(two_teams, api_client, make_user):
    a, b = two_teams["a"], two_teams["b"]
    make_user(username="joe")
    admin = api_client(a["admin"])
    resp = admin.post("/api/v1/members/", {"team": a["team"].pk, "username": "joe", "role": "operator"}, format="json")
    assert resp.status_code == 201 and resp.json()["role"] == "operator"
    resp = admin.post("/api/v1/members/", {"team": a["team"].pk, "username": "joe"}, format="json")
    assert resp.status_code == 400 and "username" in resp.json()["error"]["details"]
    resp = admin.post("/api/v1/members/", {"team": a["team"].pk, "username": "j" * 100_000, "role": "r" * 100_000}, format="json")
    assert resp.status_code == 400 and {"username", "role"} <= set(resp.json()["error"]["details"])
    assert admin.post("/api/v1/members/", {"team": b["team"].pk, "username": "joe"}, format="json").status_code == 404
