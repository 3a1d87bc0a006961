"""Nobody raises their own privileges through the admin; secrets never show there."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import ApiToken, Invitation, Membership, hash_secret
from apps.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(two_teams):
    for key in ("a", "b"):
        for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN):
            user = two_teams[key][role]
            user.is_staff = True
            user.save()
    return two_teams


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_cannot_make_themselves_superuser(staff):
    admin = staff["a"][Role.ADMIN]
    client = login(admin)
    url = reverse("admin:accounts_user_change", args=[admin.pk])
    resp = client.post(url, {"first_name": "Ada", "email": "ada@example.test", "is_superuser": "on", "is_staff": "on", "groups": [], "user_permissions": []})
    assert resp.status_code == 302, resp.content[:1500]
    admin.refresh_from_db()
    assert admin.first_name == "Ada" and not admin.is_superuser
    assert admin.groups.count() == 0 and admin.user_permissions.count() == 0


def test_staff_cannot_change_other_users_or_passwords(staff):
    client = login(staff["a"][Role.ADMIN])
    viewer = staff["a"][Role.VIEWER]
    resp = client.post(reverse("admin:accounts_user_change", args=[viewer.pk]), {"first_name": "X", "is_superuser": "on"})
    assert resp.status_code == 403
    viewer.refresh_from_db()
    assert not viewer.is_superuser and viewer.first_name != "X"
    resp = client.post(reverse("admin:auth_user_password_change", args=[viewer.pk]), {"password1": "N3w-pass-word!", "password2": "N3w-pass-word!"})
    assert resp.status_code == 403
    assert client.get(reverse("admin:accounts_user_add")).status_code == 403


def test_user_list_shows_only_people_sharing_a_team(staff):
    body = login(staff["a"][Role.VIEWER]).get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "a_admin" in body and "b_admin" not in body


def test_cannot_edit_own_membership_role(staff):
    admin = staff["a"][Role.ADMIN]
    own = Membership.objects.get(user=admin, team=staff["a"]["team"])
    resp = login(admin).post(reverse("admin:accounts_membership_change", args=[own.pk]), {"role": Role.VIEWER})
    assert resp.status_code == 403
    own.refresh_from_db()
    assert own.role == Role.ADMIN


def test_team_admin_changes_other_members_role_but_keeps_an_admin(staff, superuser):
    admin = staff["a"][Role.ADMIN]
    viewer = Membership.objects.get(user=staff["a"][Role.VIEWER], team=staff["a"]["team"])
    resp = login(admin).post(reverse("admin:accounts_membership_change", args=[viewer.pk]), {"role": Role.OPERATOR})
    assert resp.status_code == 302
    viewer.refresh_from_db()
    assert viewer.role == Role.OPERATOR
    # The superuser demoting the team's only admin gets a field error, not a 500.
    own = Membership.objects.get(user=admin, team=staff["a"]["team"])
    resp = login(superuser).post(reverse("admin:accounts_membership_change", args=[own.pk]), {"role": Role.VIEWER})
    assert resp.status_code == 200 and "A team must keep at least one admin." in resp.content.decode()


def test_cannot_add_members_to_teams_one_does_not_admin(staff, make_user):
    newcomer = make_user(staff["a"]["team"], Role.VIEWER, username="newcomer")
    newcomer.is_staff = False
    operator = staff["a"][Role.OPERATOR]
    url = reverse("admin:accounts_membership_add")
    # An operator may not add at all; a team admin may not add into team B.
    assert login(operator).post(url, {"user": newcomer.pk, "team": staff["a"]["team"].pk, "role": Role.ADMIN}).status_code == 403
    resp = login(staff["a"][Role.ADMIN]).post(url, {"user": newcomer.pk, "team": staff["b"]["team"].pk, "role": Role.ADMIN})
    assert resp.status_code == 200 and "Select a valid choice" in resp.content.decode()
    assert not Membership.objects.filter(user=newcomer, team=staff["b"]["team"]).exists()
    # Into their own team: fine, and audited as an admin change.
    resp = login(staff["a"][Role.ADMIN]).post(url, {"user": staff["a"][Role.VIEWER].pk, "team": staff["a"]["team"].pk, "role": Role.ADMIN})
    assert resp.status_code == 200  # already a member: a clear error
    assert "already exists" in resp.content.decode()


def test_token_and_invitation_hashes_never_shown(staff, superuser):
    token, raw = ApiToken.issue(staff["a"][Role.ADMIN], "laptop")
    invitation = Invitation.objects.create(
        team=staff["a"]["team"], email="new@example.test", token_hash=hash_secret("invite-secret"),
        expires_at="2099-01-01T00:00:00Z",
    )
    client = login(superuser)
    pages = [
        reverse("admin:accounts_apitoken_changelist"), reverse("admin:accounts_apitoken_change", args=[token.pk]),
        reverse("admin:accounts_invitation_changelist"), reverse("admin:accounts_invitation_change", args=[invitation.pk]),
    ]
    for page in pages:
        body = client.get(page).content.decode()
        assert token.key_hash not in body and invitation.token_hash not in body and raw not in body
    assert "laptop" in client.get(pages[0]).content.decode()


def test_revoke_action_only_for_own_tokens(staff):
    mine, _ = ApiToken.issue(staff["a"][Role.VIEWER], "mine")
    theirs, _ = ApiToken.issue(staff["a"][Role.ADMIN], "theirs")
    resp = login(staff["a"][Role.VIEWER]).post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [mine.pk, theirs.pk]}
    )
    assert resp.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


def test_login_attempts_superuser_only(staff, superuser):
    url = reverse("admin:accounts_loginattempt_changelist")
    assert login(staff["a"][Role.ADMIN]).get(url).status_code == 403
    assert login(superuser).get(url).status_code == 200
