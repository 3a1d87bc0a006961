import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from apps.core.models import TimestampedModel
from apps.core.querysets import TeamScopedQuerySet, team_ids_for
from apps.core.roles import Action, Role


class User(AbstractUser):
    """Our own user model from the first migration, so later changes need no swap."""

    email = models.EmailField("email address", blank=True)
    audited = True

    class Meta:
        ordering = ["username"]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value[:64]!r} is not a known time zone (e.g. Europe/Berlin).")  # never echo 100 kB


class TeamQuerySet(models.QuerySet):
    def for_user(self, user, action: str = Action.VIEW):
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(pk__in=team_ids_for(user, action))


class Team(TimestampedModel):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    # Team settings; later issues add their own sections through the settings registry.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    objects = TeamQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def team(self):  # so generic team-scoped code can treat a Team like a team-owned row
        return self

    def role_of(self, user) -> str | None:
        if user.is_superuser:
            return Role.ADMIN
        return self.memberships.filter(user=user).values_list("role", flat=True).first()


class MembershipQuerySet(TeamScopedQuerySet):
    pass


class Membership(TimestampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    objects = MembershipQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="membership_unique_user_team")]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiToken(TimestampedModel):
    """An API token of our own: only its SHA-256 is stored; the key is shown once."""

    PREFIX = "dfk_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the key, to tell tokens apart in lists; not enough to use it.
    key_prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="apitoken_unique_user_name")]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def issue(cls, user, name: str, expires_at=None) -> tuple["ApiToken", str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, key_prefix=raw[:10], key_hash=hash_secret(raw), expires_at=expires_at
        )
        return token, raw

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at", "updated_at"])


class Invitation(TimestampedModel):
    """A team admin invites someone by e-mail; the link carries a secret stored hashed."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TeamScopedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} → {self.team} ({self.role})"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class LoginAttempt(models.Model):
    """Failed logins, for the rate limit (kept in the database so every process agrees)."""

    username = models.CharField(max_length=150, db_index=True)
    remote_addr = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
