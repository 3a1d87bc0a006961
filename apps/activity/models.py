from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.querysets import TeamScopedQuerySet


class Event(models.Model):
    """One event of the bus (activity feed). `payload` is the full envelope (DESIGN.md)."""

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=100, db_index=True)
    severity = models.CharField(max_length=16, default="info", db_index=True)
    host_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    host_name = models.CharField(max_length=200, blank=True)
    target_kind = models.CharField(max_length=50, blank=True)
    target_id = models.CharField(max_length=200, blank=True)
    target_name = models.CharField(max_length=300, blank=True)
    summary = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["team", "-occurred_at"])]

    def __str__(self):
        return f"{self.kind}: {self.summary}"[:200]


class AuditEvent(models.Model):
    """Who changed what, when, from where, with before/after (secrets masked)."""

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        ACTION = "action"  # a named action (test connection, override, ...)

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    via = models.CharField(max_length=16, blank=True)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    remote_addr = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    name = models.CharField(max_length=100, blank=True, help_text="For named actions")
    object_type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.actor_name or 'system'} {self.action} {self.object_type} {self.object_repr}"[:200]


class Operation(models.Model):
    """A user-visible background job: status, progress, log lines, error, cancel flag."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=100, db_index=True)
    target_kind = models.CharField(max_length=50, blank=True)
    target_id = models.CharField(max_length=200, blank=True)
    target_name = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    progress = models.FloatField(default=0.0)
    log = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.kind} {self.target_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED
