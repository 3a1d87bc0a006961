"""Invitations: team admins invite by e-mail; the link works once, for 7 days."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from apps.accounts.models import Invitation, Membership, hash_secret
from apps.core.roles import Role

pytestmark = pytest.mark.django_db


def invite_via_ui(client, admin, email="new@example.test", role=Role.OPERATOR) -> str:
    """Invite through the team settings page; return the link path from the e-mail."""
    client.force_login(admin)
    resp = client.post("/accounts/team/invitations/", {"email": email, "role": role})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    body = mail.outbox[-1].body
    return re.search(r"http://testserver(/accounts/invite/[^/\s]+/)", body).group(1)


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def test_invitation_is_mailed_and_stored_hashed(client, two_teams):
    a = two_teams["a"]
    path = invite_via_ui(client, a["admin"])
    invitation = Invitation.objects.get(email="new@example.test")
    assert mail.outbox[0].to == ["new@example.test"] and a["team"].name in mail.outbox[0].subject
    assert invitation.token_hash == hash_secret(token_of(path)) and token_of(path) not in invitation.token_hash
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)
    assert invitation.invited_by == a["admin"] and invitation.role == Role.OPERATOR
    page = client.get("/accounts/team/").content.decode()
    assert "new@example.test" in page and token_of(path) not in page


def test_accept_as_existing_user(client, two_teams, make_user):
    a = two_teams["a"]
    path = invite_via_ui(client, a["admin"])
    joiner = make_user(username="joiner")
    client.force_login(joiner)
    assert "Join" in client.get(path).content.decode()
    resp = client.post(path)
    assert resp.status_code == 302
    assert Membership.objects.get(team=a["team"], user=joiner).role == Role.OPERATOR
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == joiner and invitation.accepted_at is not None
    assert client.session["current_team_id"] == a["team"].pk


def test_accept_as_new_user(client, two_teams):
    a = two_teams["a"]
    path = invite_via_ui(client, a["admin"], email="fresh@example.test")
    client.logout()
    page = client.get(path).content.decode()
    assert "Create account and join" in page
    # Bad input: field errors, no user, invitation still open.
    resp = client.post(path, {"username": "fresh", "password1": "Sturdy-Pass-123", "password2": "nope"})
    assert resp.status_code == 200 and "errorlist" in resp.content.decode()
    resp = client.post(path, {"username": "u" * 100_000, "password1": "p" * 100_000, "password2": "p"})
    assert resp.status_code == 200
    assert not get_user_model().objects.filter(username="fresh").exists()
    resp = client.post(path, {"username": "fresh", "password1": "Sturdy-Pass-123", "password2": "Sturdy-Pass-123"})
    assert resp.status_code == 302
    user = get_user_model().objects.get(username="fresh")
    assert user.email == "fresh@example.test" and user.check_password("Sturdy-Pass-123")
    assert Membership.objects.get(team=a["team"], user=user).role == Role.OPERATOR
    assert client.get("/accounts/profile/").status_code == 200  # logged in


def test_reused_invitation_refused(client, two_teams, make_user):
    a = two_teams["a"]
    path = invite_via_ui(client, a["admin"])
    client.force_login(make_user(username="first"))
    client.post(path)
    client.force_login(make_user(username="second"))
    resp = client.get(path)
    assert resp.status_code == 410 and "already been used" in resp.content.decode()
    resp = client.post(path)
    assert resp.status_code == 410
    assert not Membership.objects.filter(user__username="second").exists()
    client.logout()
    resp = client.post(path, {"username": "third", "password1": "Sturdy-Pass-123", "password2": "Sturdy-Pass-123"})
    assert resp.status_code == 410 and not get_user_model().objects.filter(username="third").exists()


def test_expired_invitation_refused(client, two_teams, make_user):
    a = two_teams["a"]
    path = invite_via_ui(client, a["admin"])
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(make_user(username="late"))
    resp = client.post(path)
    assert resp.status_code == 410 and "expired" in resp.content.decode()
    assert not Membership.objects.filter(user__username="late").exists()


def test_unknown_and_huge_tokens(client):
    assert client.get("/accounts/invite/nope/").status_code == 404
    assert client.get("/accounts/invite/" + "x" * 5000 + "/").status_code == 404


def test_existing_member_cannot_use_an_invitation(client, two_teams):
    a = two_teams["a"]
    path = invite_via_ui(client, a["admin"], email="someone@example.test")
    client.force_login(a["viewer"])
    assert client.post(path).status_code == 409
    assert Membership.objects.get(team=a["team"], user=a["viewer"]).role == Role.VIEWER
    assert Invitation.objects.get().accepted_at is None


def test_only_admins_invite(client, two_teams):
    a = two_teams["a"]
    for role in (Role.VIEWER, Role.OPERATOR):
        client.force_login(a[role])
        assert client.post("/accounts/team/invitations/", {"email": "x@example.test", "role": Role.ADMIN}).status_code == 403
    assert not Invitation.objects.exists() and mail.outbox == []


def test_invite_form_errors(client, two_teams):
    a = two_teams["a"]
    client.force_login(a["admin"])
    resp = client.post("/accounts/team/invitations/", {"email": "not-an-address", "role": "emperor"})
    assert resp.status_code == 200 and resp.content.decode().count("errorlist") >= 2
    resp = client.post("/accounts/team/invitations/", {"email": "a@example.test" * 10_000})
    assert resp.status_code == 200
    # Inviting a current member's address, or twice, is refused clearly.
    resp = client.post("/accounts/team/invitations/", {"email": a["viewer"].email, "role": Role.VIEWER})
    assert "already has this e-mail" in resp.content.decode()
    client.post("/accounts/team/invitations/", {"email": "twice@example.test", "role": Role.VIEWER})
    resp = client.post("/accounts/team/invitations/", {"email": "twice@example.test", "role": Role.VIEWER})
    assert "open invitation" in resp.content.decode()
    assert Invitation.objects.count() == 1


def test_revoke_invitation_ui(client, two_teams, make_user):
    a, b = two_teams["a"], two_teams["b"]
    path = invite_via_ui(client, a["admin"])
    invitation = Invitation.objects.get()
    client.force_login(b["admin"])  # another team's admin: not found
    assert client.post(f"/accounts/team/invitations/{invitation.pk}/revoke/").status_code == 404
    client.force_login(a["operator"])
    assert client.post(f"/accounts/team/invitations/{invitation.pk}/revoke/").status_code == 403
    client.force_login(a["admin"])
    assert client.post(f"/accounts/team/invitations/{invitation.pk}/revoke/").status_code == 302
    assert not Invitation.objects.exists()
    client.force_login(make_user(username="latecomer"))
    assert client.get(path).status_code == 404


def test_api_invitations(two_teams, api_client):
    a, b = two_teams["a"], two_teams["b"]
    admin = api_client(a["admin"])
    resp = admin.post("/api/v1/invitations/", {"team": a["team"].pk, "email": "api@example.test", "role": "operator"}, format="json")
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert body["email"] == "api@example.test" and body["invited_by"] == "a_admin" and "token" not in body
    assert mail.outbox[-1].to == ["api@example.test"]
    assert [i["email"] for i in admin.get("/api/v1/invitations/").json()["results"]] == ["api@example.test"]
    # Another team's admin cannot invite to team A (404), nor see or revoke its invitations.
    other = api_client(b["admin"])
    resp = other.post("/api/v1/invitations/", {"team": a["team"].pk, "email": "evil@example.test"}, format="json")
    assert resp.status_code == 404
    assert other.get("/api/v1/invitations/").json()["count"] == 0
    assert other.delete(f"/api/v1/invitations/{body['id']}/").status_code == 404
    # Viewers and operators of team A: 403, before validation.
    for role in (Role.VIEWER, Role.OPERATOR):
        client = api_client(a[role])
        assert client.post("/api/v1/invitations/", {"team": a["team"].pk}, format="json").status_code == 403
        assert client.delete(f"/api/v1/invitations/{body['id']}/").status_code == 403
        assert client.get("/api/v1/invitations/").json()["count"] == 0
    assert admin.delete(f"/api/v1/invitations/{body['id']}/").status_code == 204
    assert not Invitation.objects.exists()


def test_api_invitation_bad_input(two_teams, api_client):
    a = two_teams["a"]
    admin = api_client(a["admin"])
    resp = admin.post("/api/v1/invitations/", {"team": a["team"].pk, "email": "x" * 100_000, "role": "god"}, format="json")
    assert resp.status_code == 400
    assert {"email", "role"} <= set(resp.json()["error"]["details"])
    resp = admin.post("/api/v1/invitations/", {"team": a["team"].pk}, format="json")
    assert resp.status_code == 400 and "email" in resp.json()["error"]["details"]
    resp = admin.post("/api/v1/invitations/", {"team": a["team"].pk, "email": a["viewer"].email}, format="json")
    assert resp.status_code == 400 and "email" in resp.json()["error"]["details"]


def test_anonymous_existing_user_logs_in_and_comes_back(client, two_teams, make_user):
    a = two_teams["a"]
    path = invite_via_ui(client, a["admin"])
    make_user(username="returning")
    client.logout()
    page = client.get(path).content.decode()
    login_href = re.search(r'href="(/accounts/login/\?next=[^"]+)"', page).group(1).replace("&amp;", "&")
    resp = client.post(login_href, {"username": "returning", "password": "pw-returning", "next": path})
    assert resp.status_code == 302 and resp["Location"] == path
    assert client.post(path).status_code == 302
    assert Membership.objects.filter(team=a["team"], user__username="returning").exists()
