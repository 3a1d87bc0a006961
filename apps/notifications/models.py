"""Notification channels, routes, the persistent notification log (groups and items) and
deliveries with one row per attempt.

The log is what makes Alertmanager's semantics hold across restarts and several workers:
which alerts a group holds, which status each was last notified with, when the group is
due; work is claimed with conditional UPDATEs (`claimed_until`).
"""

from __future__ import annotations

from urllib.parse import urlparse

from django.db import models
from django.utils import timezone

from apps.core.fields import EncryptedTextField
from apps.core.models import TeamOwnedModel
from apps.core.querysets import TeamScopedQuerySet

SEVERITIES = ("debug", "info", "warning", "error", "critical")
SEVERITY_CHOICES = [(s, s.capitalize()) for s in SEVERITIES]


def severity_rank(severity: str | None) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 1


def url_hint(url: str) -> str:
    """What may be shown of a secret URL: scheme and host, never path or query."""
    if not url:
        return ""
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.hostname or ''}{f':{parsed.port}' if parsed.port else ''}"


class Channel(TeamOwnedModel):
    """Where notifications go. `kind` names a channel type in
    apps.core.registries.notification_channels (email, slack, webhook, ntfy, plugins)."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=50)
    enabled = models.BooleanField(default=True)
    # Type-specific settings that are not secret (recipients, SMTP host/port/security...).
    config = models.JSONField(default=dict, blank=True)
    # Secrets: encrypted at rest, write-only in forms, API and admin, never logged.
    url = EncryptedTextField(blank=True, help_text="Webhook / Slack / ntfy URL (secret)")
    password = EncryptedTextField(blank=True, help_text="SMTP password (secret)")
    signing_secret = EncryptedTextField(blank=True, help_text="HMAC-SHA256 signing secret (secret)")
    headers = EncryptedTextField(blank=True, help_text="Extra HTTP headers as JSON (secret: may hold tokens)")
    # Token bucket: `rate_limit` messages a minute (0: unlimited), bursts up to `rate_burst`.
    rate_limit = models.PositiveIntegerField(default=0, help_text="Messages per minute; 0 for no limit")
    rate_burst = models.PositiveIntegerField(default=0, help_text="Bucket size; 0 means the per-minute limit")
    bucket_tokens = models.FloatField(null=True, blank=True)
    bucket_updated_at = models.DateTimeField(null=True, blank=True)
    # What people need to see when it breaks.
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="notif_channel_unique_team_name")]

    def __str__(self):
        return self.name

    @property
    def url_hint(self) -> str:
        return url_hint(self.url)

    @property
    def type(self):
        from .channels import channel_type

        return channel_type(self.kind)

    @property
    def capacity(self) -> float:
        return float(self.rate_burst or self.rate_limit)


class Route(TeamOwnedModel):
    """Which events go to which channels, matched on the event payload alone."""

    name = models.CharField(max_length=100)
    order = models.PositiveIntegerField(default=100, help_text="Routes are tried in this order")
    enabled = models.BooleanField(default=True)
    stop = models.BooleanField(default=False, help_text="Later routes are not tried for an event this route matched")
    channels = models.ManyToManyField(Channel, related_name="routes", blank=True)
    # Matchers (all must hold; empty means "any").
    kinds = models.JSONField(default=list, blank=True, help_text='Event kinds, globs allowed: ["alert.*", "host.down"]')
    min_severity = models.CharField(max_length=16, choices=SEVERITY_CHOICES, default="info")
    hosts = models.JSONField(default=list, blank=True, help_text="Host names or ids, globs allowed")
    labels = models.JSONField(default=dict, blank=True, help_text='Target labels that must match: {"env": "prod*"}')
    # Alertmanager grouping; null timings use the installation defaults (settings).
    group_by = models.JSONField(default=list, blank=True, help_text='Fields: rule, host, kind, target, severity (default ["rule", "host"])')
    group_wait = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds")
    group_interval = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds")
    repeat_interval = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds")
    # Quiet hours in the team's time zone: held back until they end, unless severe enough.
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    quiet_bypass_severity = models.CharField(max_length=16, choices=SEVERITY_CHOICES, default="critical")
    # Digest: events below this severity are collected and sent once every digest_interval.
    digest_below = models.CharField(max_length=16, choices=SEVERITY_CHOICES, blank=True, help_text="Blank: no digest")
    digest_interval = models.PositiveIntegerField(default=60, help_text="Minutes")

    class Meta:
        ordering = ["order", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="notif_route_unique_team_name")]

    def __str__(self):
        return self.name

    def timing(self, name: str) -> int:
        from . import conf

        value = getattr(self, name)
        return int(value if value is not None else conf.get(name.upper()))


class GroupQuerySet(TeamScopedQuerySet):
    pass


class NotificationGroup(TeamOwnedModel):
    """One alert group of one route and channel (Alertmanager's aggregation group)."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="groups")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="groups")
    key = models.CharField(max_length=64)
    labels = models.JSONField(default=dict, blank=True)
    digest = models.BooleanField(default=False)
    next_flush_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_flushed_at = models.DateTimeField(null=True, blank=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)

    objects = GroupQuerySet.as_manager()
    audited = False  # machine state, not a person's change

    class Meta:
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["route", "channel", "key"], name="notif_group_unique_key")]

    def __str__(self):
        labels = ", ".join(f"{k}={v}" for k, v in self.labels.items())
        return f"{self.route} → {self.channel} [{labels}]"


class ItemQuerySet(TeamScopedQuerySet):
    team_field = "group__team"


class NotificationItem(models.Model):
    """One alert (by fingerprint) or one event in a group, with what was last notified."""

    class Status(models.TextChoices):
        FIRING = "firing"
        RESOLVED = "resolved"
        EVENT = "event"  # a one-off event (not an alert): notified once

    group = models.ForeignKey(NotificationGroup, on_delete=models.CASCADE, related_name="items")
    fingerprint = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices)
    severity = models.CharField(max_length=16, default="info")
    envelope = models.JSONField(default=dict)
    # How many events this item folds together (repeated firings of one alert are deduplicated).
    count = models.PositiveIntegerField(default=1)
    notified_status = models.CharField(max_length=16, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    first_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ItemQuerySet.as_manager()

    class Meta:
        ordering = ["first_at", "id"]
        constraints = [models.UniqueConstraint(fields=["group", "fingerprint"], name="notif_item_unique_fingerprint")]

    def __str__(self):
        return f"{self.fingerprint} ({self.status})"


class Delivery(TeamOwnedModel):
    """One message to one channel; its attempts are DeliveryAttempt rows."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        RETRYING = "retrying"
        DELIVERED = "delivered"
        FAILED = "failed"
        FOLDED = "folded"  # rate-limited: carried by a later message (folded_into)

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    group = models.ForeignKey(NotificationGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    route = models.ForeignKey(Route, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    is_test = models.BooleanField(default=False)
    subject = models.CharField(max_length=300, blank=True)
    message = models.JSONField(default=dict)
    event_count = models.PositiveIntegerField(default=0)
    folded_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="folded")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    audited = False  # machine state

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"#{self.pk} {self.subject} → {self.channel} ({self.status})"

    PENDING = (Status.QUEUED, Status.RETRYING)


class AttemptQuerySet(TeamScopedQuerySet):
    team_field = "delivery__team"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: status, response code, error, latency."""

    class Status(models.TextChoices):
        OK = "ok"
        TRANSIENT = "transient"
        PERMANENT = "permanent"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    latency_ms = models.FloatField(default=0)
    retry_after = models.FloatField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)

    objects = AttemptQuerySet.as_manager()

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self):
        return f"{self.delivery.subject} · attempt {self.number} ({self.status})"
