"""Updates: per-team/per-container policies, auto-update windows, check results and update runs."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.accounts.models import validate_time_zone
from apps.core.models import TeamOwnedModel

# Labels a container's owner sets (on the container or in the image).
EXCLUDE_LABEL = "dockerforge.update.exclude"  # "true": never checked or updated
MONITOR_LABEL = "dockerforge.update.monitor-only"  # "true": checked, never auto-updated
PRE_HOOK_LABEL = "dockerforge.update.pre-hook"  # a shell command run in the old container first
POST_HOOK_LABEL = "dockerforge.update.post-hook"  # a shell command run in the new container after
BACKUP_VOLUMES_LABEL = "dockerforge.update.backup-volumes"  # "true": the pre-update backup includes volumes


def validate_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(f"Not a valid regular expression: {exc}") from None


class Strategy(models.TextChoices):
    DIGEST = "digest", "Same tag, new digest only"
    PATCH = "patch", "Patch releases (x.y.Z)"
    MINOR = "minor", "Minor releases (x.Y.z)"
    MAJOR = "major", "Any newer release (X.y.z)"


class UpdatePolicy(TeamOwnedModel):
    """The team default (no container) or one container's policy (wins over the default)."""

    container = models.OneToOneField(
        "containers.Container", on_delete=models.CASCADE, null=True, blank=True, related_name="update_policy"
    )
    strategy = models.CharField(max_length=10, choices=Strategy.choices, default=Strategy.DIGEST)
    include_regex = models.CharField(max_length=300, blank=True, validators=[validate_regex],
                                     help_text="Only tags matching this are candidates (blank: all)")
    exclude_regex = models.CharField(max_length=300, blank=True, validators=[validate_regex],
                                     help_text="Tags matching this are never candidates")
    allow_prerelease = models.BooleanField(default=False)
    monitor_only = models.BooleanField(default=False, help_text="Report updates, never apply them automatically")
    auto_update = models.BooleanField(default=False, help_text="Apply updates inside the team's update windows")
    health_seconds = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(3600)],
                                       help_text="How long the new container must stay up (blank: the installation default)")

    class Meta:
        ordering = ["team", "container"]
        verbose_name_plural = "update policies"
        constraints = [
            models.UniqueConstraint(fields=["team"], condition=models.Q(container__isnull=True), name="updatepolicy_one_default_per_team"),
        ]

    def __str__(self):
        return f"{self.container.name if self.container_id else 'team default'}: {self.strategy}"


class UpdateWindow(TeamOwnedModel):
    """A weekly window (in its own time zone, else the team's) in which automatic updates may run."""

    name = models.CharField(max_length=100)
    weekdays = models.JSONField(default=list, blank=True, help_text="0=Monday ... 6=Sunday; empty: every day")
    start = models.TimeField()
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(24 * 60)])
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone],
                                 help_text="IANA name, e.g. Europe/Berlin (blank: the team's time zone)")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="updatewindow_unique_team_name")]

    def __str__(self):
        return self.name

    @property
    def day_names(self) -> str:
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        return ", ".join(names[d] for d in sorted(self.weekdays or []) if isinstance(d, int) and 0 <= d <= 6) or "every day"

    def clean(self):
        days = self.weekdays or []
        if not isinstance(days, list) or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            raise ValidationError({"weekdays": "A list of weekday numbers, 0 (Monday) to 6 (Sunday)."})

    def contains(self, when: dt.datetime, tz: str) -> bool:
        """Is the aware datetime `when` inside this window (windows may run past midnight)? `tz`:
        the team's time zone, used when the window has none of its own."""
        local = when.astimezone(zoneinfo.ZoneInfo(self.time_zone or tz or "UTC"))
        for days_back in (0, 1):
            day = local.date() - dt.timedelta(days=days_back)
            if self.weekdays and day.weekday() not in self.weekdays:
                continue
            opens = dt.datetime.combine(day, self.start, tzinfo=local.tzinfo)
            if opens <= local < opens + dt.timedelta(minutes=self.duration_minutes):
                return True
        return False


class UpdateCheck(TeamOwnedModel):
    """The latest check of one container (one row per container, overwritten)."""

    class Status(models.TextChoices):
        UP_TO_DATE = "up_to_date", "Up to date"
        AVAILABLE = "available", "Update available"
        EXCLUDED = "excluded", "Excluded"
        ERROR = "error", "Error"

    container = models.OneToOneField("containers.Container", on_delete=models.CASCADE, related_name="update_check")
    host = models.ForeignKey("hosts.DockerHost", on_delete=models.CASCADE, related_name="+")
    image_ref = models.CharField(max_length=500)
    strategy = models.CharField(max_length=10, choices=Strategy.choices)
    status = models.CharField(max_length=12, choices=Status.choices, db_index=True)
    local_digests = models.JSONField(default=list, blank=True)
    remote_digest = models.CharField(max_length=100, blank=True)
    digest_update = models.BooleanField(default=False)
    newer_tag = models.CharField(max_length=200, blank=True, help_text="The newest tag the policy allows")
    newest_by_level = models.JSONField(default=dict, blank=True, help_text="{patch, minor, major}: newest tag at each level")
    target_ref = models.CharField(max_length=500, blank=True, help_text="What an update would pull")
    monitor_only = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    checked_at = models.DateTimeField()

    audited = False  # checks record the registries' state, not people's actions

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self):
        return f"{self.container.name}: {self.get_status_display()}"

    @property
    def has_update(self) -> bool:
        return self.status == self.Status.AVAILABLE


class UpdateRun(TeamOwnedModel):
    """One update (or manual rollback) of a container, run as an Operation."""

    class Kind(models.TextChoices):
        UPDATE = "update", "Update"
        ROLLBACK = "rollback", "Rollback"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        BLOCKED = "blocked", "Blocked by policy"
        ROLLED_BACK = "rolled_back", "Rolled back"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.UPDATE)
    container = models.ForeignKey("containers.Container", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    container_name = models.CharField(max_length=255)
    host = models.ForeignKey("hosts.DockerHost", on_delete=models.CASCADE, related_name="+")
    operation = models.ForeignKey("activity.Operation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    rollback_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="rollbacks")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    from_ref = models.CharField(max_length=500)
    from_image_id = models.CharField(max_length=100, blank=True)
    from_container_id = models.CharField(max_length=64, blank=True)
    to_ref = models.CharField(max_length=500)
    to_image_id = models.CharField(max_length=100, blank=True)
    to_container_id = models.CharField(max_length=64, blank=True)
    override = models.BooleanField(default=False, help_text="An admin overrode the vulnerability gate")
    automatic = models.BooleanField(default=False, help_text="Started by an update window")
    vuln_diff = models.JSONField(default=dict, blank=True, help_text="Findings added/removed by the new image")
    gate = models.JSONField(default=list, blank=True, help_text="Policy reasons that block the new image")
    steps = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    audited = False  # the request and the outcome are recorded as named audit actions

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.container_name}: {self.from_ref} -> {self.to_ref}"
