"""Alert rules, alerts (one open alert per fingerprint) and silences.

An Alert is the state of one (rule, target) pair: pending -> firing -> resolved. A partial
unique constraint allows one *open* (pending or firing) alert per fingerprint, so repeated
and concurrent evaluations converge on the same row (state.py). Alerts record the engines'
state, not people's actions: they are not audited row by row (acknowledging is, by name).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.models import TeamOwnedModel
from apps.core.querysets import TeamScopedQuerySet
from apps.monitoring.metrics import ALL_NAMES

METRIC_CHOICES = [(name, name) for name in ALL_NAMES] + [("host_disk_percent", "host_disk_percent")]


class AlertRule(TeamOwnedModel):
    class Kind(models.TextChoices):
        METRIC = "metric", "Metric threshold"
        EVENT = "event", "Event match"
        LOG = "log", "Log pattern"
        TREND = "trend", "Trend"

    class Scope(models.TextChoices):
        HOST = "host", "Hosts (totals)"
        CONTAINER = "container", "Containers"
        LABELS = "labels", "Containers matching labels"

    class Operator(models.TextChoices):
        GT = ">", ">"
        GE = ">=", ">="
        LT = "<", "<"
        LE = "<=", "<="

    class EventKind(models.TextChoices):
        DIED_NONZERO = "died_nonzero", "Container died with a non-zero exit code"
        OOM = "oom", "Container OOM killed"
        UNHEALTHY = "unhealthy", "Container unhealthy"
        RESTART_LOOP = "restart_loop", "Restart loop (N restarts in M minutes)"
        HOST_DOWN = "host_down", "Host down"

    class Trend(models.TextChoices):
        FORECAST = "forecast", "Memory reaches its limit (forecast)"
        ANOMALY = "anomaly", "Far outside the container's own baseline"

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"
        CRITICAL = "critical", "Critical"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.METRIC)
    enabled = models.BooleanField(default=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    description = models.CharField(max_length=500, blank=True)
    # Which targets (metric, log, trend rules; event rules narrow by host and labels too).
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.CONTAINER)
    host = models.ForeignKey("hosts.DockerHost", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             help_text="Only this host (empty: every host of the team)")
    container = models.ForeignKey("containers.Container", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+", help_text="Only this container (scope: containers)")
    label_selector = models.JSONField(default=dict, blank=True,
                                      help_text='Containers whose labels match all of these ({"key": "value"}; "" = key present)')
    # Metric threshold.
    metric = models.CharField(max_length=32, choices=METRIC_CHOICES, blank=True)
    operator = models.CharField(max_length=2, choices=Operator.choices, default=Operator.GT)
    threshold = models.FloatField(null=True, blank=True)
    hysteresis = models.FloatField(default=0.0, help_text="Resolve only once the value is this far back past the threshold")
    for_seconds = models.PositiveIntegerField(default=0, help_text="Pending this long before firing")
    # Event match.
    event = models.CharField(max_length=16, choices=EventKind.choices, blank=True)
    restart_count = models.PositiveIntegerField(default=3, help_text="Restart loop: N restarts ...")
    restart_window_seconds = models.PositiveIntegerField(default=600, help_text="... within this many seconds")
    resolve_after_seconds = models.PositiveIntegerField(
        default=900, help_text="Event and log alerts resolve after this long without a new match")
    # Log pattern.
    log_pattern = models.CharField(max_length=200, blank=True, help_text="Regular expression (case-insensitive)")
    # Trend.
    trend = models.CharField(max_length=16, choices=Trend.choices, blank=True)
    horizon_seconds = models.PositiveIntegerField(default=1800, help_text="Forecast: alert when the limit is this close")
    fit_seconds = models.PositiveIntegerField(default=3600, help_text="Forecast/baseline: history fitted")
    sigmas = models.FloatField(default=4.0, help_text="Anomaly: how many standard deviations from the mean")
    # Evaluator-owned state (log cursors per container id); written with update(), never audited.
    cursors = models.JSONField(default=dict, blank=True, editable=False)

    audited = True

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="alertrule_unique_team_name")]

    def __str__(self):
        return self.name

    def describe(self) -> str:
        if self.kind == self.Kind.METRIC:
            wait = f" for {self.for_seconds} s" if self.for_seconds else ""
            return f"{self.metric} {self.operator} {self.threshold:g}{wait}" if self.threshold is not None else self.metric
        if self.kind == self.Kind.EVENT:
            if self.event == self.EventKind.RESTART_LOOP:
                return f"{self.restart_count} restarts in {self.restart_window_seconds // 60 or 1} min"
            return self.get_event_display()
        if self.kind == self.Kind.LOG:
            return f"logs match /{self.log_pattern}/"
        return self.get_trend_display()


class AlertQuerySet(TeamScopedQuerySet):
    def open(self):
        return self.filter(status__in=Alert.OPEN)


class Alert(TeamOwnedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    OPEN = (Status.PENDING, Status.FIRING)

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=40, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    target_kind = models.CharField(max_length=16)  # "container" | "host"
    target_id = models.BigIntegerField()
    target_name = models.CharField(max_length=300)
    target_labels = models.JSONField(default=dict, blank=True)
    host = models.ForeignKey("hosts.DockerHost", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    summary = models.CharField(max_length=500, blank=True)
    value = models.FloatField(null=True, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    fired_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_match_at = models.DateTimeField(default=timezone.now, help_text="Last time the condition held")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    # Why notifications are muted now ("silenced by #3", "inhibited: host down"), or "".
    suppressed = models.CharField(max_length=200, blank=True)
    # The last status published as an alert.* event: a conditional UPDATE on it makes each
    # status publish once, however many evaluators race.
    notified_status = models.CharField(max_length=16, blank=True)

    objects = AlertQuerySet.as_manager()
    audited = False

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["fingerprint"], condition=models.Q(status__in=["pending", "firing"]),
                                    name="alert_one_open_per_fingerprint"),
        ]
        indexes = [models.Index(fields=["team", "status"], name="alert_team_status")]

    def __str__(self):
        return f"{self.rule.name}: {self.target_name}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


def fingerprint(rule_id: int, target_kind: str, target_id: int) -> str:
    return hashlib.sha1(f"{rule_id}:{target_kind}:{target_id}".encode()).hexdigest()


class SilenceQuerySet(TeamScopedQuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(starts_at__lte=now, ends_at__gt=now)


class Silence(TeamOwnedModel):
    """Mutes the notifications of matching alerts until it expires. Every matcher that is
    set must match (rule, host, labels, target name); none set matches every alert."""

    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="silences")
    host = models.ForeignKey("hosts.DockerHost", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    label_selector = models.JSONField(default=dict, blank=True)
    target_name = models.CharField(max_length=300, blank=True, help_text="Exact container or host name")
    comment = models.CharField(max_length=500)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = SilenceQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["-ends_at"]

    def __str__(self):
        return f"Silence #{self.pk}: {self.comment}"

    def matches(self, alert: Alert) -> bool:
        if self.rule_id and self.rule_id != alert.rule_id:
            return False
        if self.host_id and self.host_id != alert.host_id:
            return False
        if self.target_name and self.target_name != alert.target_name:
            return False
        return labels_match(self.label_selector, alert.target_labels)


def labels_match(selector: dict, labels: dict) -> bool:
    """Every key present; a non-empty value must be equal."""
    labels = labels or {}
    return all(k in labels and (v in ("", None) or labels[k] == v) for k, v in (selector or {}).items())
