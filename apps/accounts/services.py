"""Team, membership, invitation and token rules shared by the pages and the API.

Errors are Django's own (PermissionDenied -> 403, ValidationError -> field errors): the
views show them on the page, the API's exception handler turns them into `{"error": ...}`.
"""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.core.api import user_may
from apps.core.roles import Action, Role

from .models import ApiToken, Invitation, Membership, Team, hash_secret

INVITATION_LIFETIME = timedelta(days=7)


# --- teams ----------------------------------------------------------------------------

def unique_slug(name: str, exclude_pk: int | None = None) -> str:
    """A slug for `name` that no other team has ("team", "team-2", ...)."""
    base = (slugify(name) or "team")[:90]
    others = Team.objects.exclude(pk=exclude_pk) if exclude_pk else Team.objects.all()
    slug, n = base, 1
    while others.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_team(creator, name: str, time_zone: str = "UTC") -> Team:
    """Installation superusers create teams; the creator becomes the team's first admin."""
    if not creator.is_superuser:
        raise PermissionDenied("Only installation superusers create teams.")
    with transaction.atomic():
        team = Team.objects.create(name=name, slug=unique_slug(name), time_zone=time_zone)
        Membership.objects.create(team=team, user=creator, role=Role.ADMIN)
    return team


def save_team_settings(team: Team) -> Team:
    """Save a team whose settings changed; the slug follows a new name without colliding."""
    if team.pk and Team.objects.filter(pk=team.pk).exclude(name=team.name).exists():
        team.slug = unique_slug(team.name, exclude_pk=team.pk)
    team.save()
    return team


# --- memberships ----------------------------------------------------------------------

def require_manage(actor, team: Team) -> None:
    if not user_may(actor, team.pk, Action.MANAGE):
        raise PermissionDenied("Only team admins manage members.")


def check_membership_change(actor, membership: Membership, *, new_role: str | None = None, deleting: bool = False) -> None:
    """The one rule for changing or removing a member (pages and API):
    only team admins act; nobody changes their own role or removes themselves; a team
    always keeps at least one admin."""
    require_manage(actor, membership.team)
    if membership.user_id == actor.pk:
        raise PermissionDenied("You cannot change your own role or remove yourself; ask another admin.")
    leaving_admin = membership.role == Role.ADMIN and (deleting or (new_role is not None and new_role != Role.ADMIN))
    if leaving_admin and not Membership.objects.filter(team_id=membership.team_id, role=Role.ADMIN).exclude(pk=membership.pk).exists():
        raise ValidationError({"role": ["A team must keep at least one admin."]})


def add_member(actor, team: Team, username: str, role: str) -> Membership:
    require_manage(actor, team)
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({"username": ["No active user has this username."]})
    if Membership.objects.filter(team=team, user=user).exists():
        raise ValidationError({"username": ["This user is already a member of the team."]})
    return Membership.objects.create(team=team, user=user, role=role)


def change_role(actor, membership: Membership, role: str) -> Membership:
    check_membership_change(actor, membership, new_role=role)
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def remove_member(actor, membership: Membership) -> None:
    check_membership_change(actor, membership, deleting=True)
    membership.delete()


# --- invitations ----------------------------------------------------------------------

def create_invitation(actor, team: Team, email: str, role: str) -> tuple[Invitation, str]:
    """A team admin invites someone by e-mail; returns the row and the raw token (for the
    link only: the database keeps its hash)."""
    require_manage(actor, team)
    email = email.strip()
    if Membership.objects.filter(team=team, user__email__iexact=email).exists():
        raise ValidationError({"email": ["A member of this team already has this e-mail address."]})
    open_ones = Invitation.objects.filter(team=team, email__iexact=email, accepted_at__isnull=True, expires_at__gt=timezone.now())
    if open_ones.exists():
        raise ValidationError({"email": ["An open invitation for this address exists; revoke it first to send a new one."]})
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        team=team, email=email, role=role, invited_by=actor, token_hash=hash_secret(raw),
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    return invitation, raw


class InvitationError(Exception):
    """The link cannot be used (unknown, used or expired); the message says which."""

    def __init__(self, message: str, status: int = 410):
        super().__init__(message)
        self.status = status


def invitation_for_token(raw: str) -> Invitation:
    raw = raw or ""
    invitation = None
    if len(raw) <= 200:  # our tokens are 43 characters; don't hash megabytes
        invitation = Invitation.objects.select_related("team").filter(token_hash=hash_secret(raw)).first()
    if invitation is None:
        raise InvitationError("This invitation link is not valid. Ask a team admin for a new one.", status=404)
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has already been used. Ask a team admin for a new one.")
    if invitation.expires_at <= timezone.now():
        raise InvitationError("This invitation has expired. Ask a team admin for a new one.")
    return invitation


@transaction.atomic
def accept_invitation(invitation: Invitation, user) -> Membership:
    """Join the team; a conditional UPDATE makes sure one link is used once."""
    if Membership.objects.filter(team_id=invitation.team_id, user=user).exists():
        raise InvitationError(f"You are already a member of {invitation.team}.", status=409)
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, expires_at__gt=timezone.now()).update(
        accepted_at=timezone.now(), accepted_by=user
    )
    if not claimed:
        raise InvitationError("This invitation has already been used or has expired.")
    try:
        with transaction.atomic():
            return Membership.objects.create(team_id=invitation.team_id, user=user, role=invitation.role)
    except IntegrityError:
        raise InvitationError(f"You are already a member of {invitation.team}.", status=409) from None


def revoke_invitation(actor, invitation: Invitation) -> None:
    require_manage(actor, invitation.team)
    invitation.delete()


# --- API tokens -----------------------------------------------------------------------

def issue_token(user, name: str, expires_at=None) -> tuple[ApiToken, str]:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["This field is required."]})
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise ValidationError({"name": ["You already have a token with this name."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    return ApiToken.issue(user, name, expires_at=expires_at)
