"""Backups (one folder of artifacts + a manifest), restores, team keys and schedules."""

import uuid

from django.db import models

from apps.core.fields import EncryptedTextField
from apps.core.models import TeamOwnedModel


class BackupKey(TeamOwnedModel):
    """A team's AES-256 key for encrypted artifacts (stored encrypted; exportable by admins
    so a restore works on an installation that lost its database)."""

    key_id = models.CharField(max_length=40, unique=True)
    secret = EncryptedTextField(help_text="base64 of the 32-byte key")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.key_id


class StorageTarget(TeamOwnedModel):
    """Where a team's backups go: a local directory (below DOCKERFORGE_BACKUP_DIR) or an
    S3-compatible bucket. The secret key is stored encrypted and never shown again."""

    class Kind(models.TextChoices):
        LOCAL = "local", "Local directory"
        S3 = "s3", "S3-compatible"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.S3)
    endpoint_url = models.URLField(max_length=300, blank=True, help_text="S3: e.g. https://s3.eu-west-1.amazonaws.com or a MinIO URL")
    bucket = models.CharField(max_length=63, blank=True)
    region = models.CharField(max_length=40, blank=True, default="us-east-1")
    access_key_id = models.CharField(max_length=128, blank=True)
    secret_key = EncryptedTextField(blank=True)
    prefix = models.CharField(max_length=200, blank=True, help_text="Folder inside the bucket (or the backup directory)")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="storagetarget_unique_team_name")]

    def __str__(self):
        return self.name


class Backup(TeamOwnedModel):
    class Mode(models.TextChoices):
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Incremental"

    class Kind(models.TextChoices):
        VOLUME = "volume", "Volume"
        CONTAINER = "container", "Container"
        IMAGE = "image", "Image"
        STACK = "stack", "Compose stack"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    host = models.ForeignKey("hosts.DockerHost", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_name = models.CharField(max_length=300, help_text="The volume, container or image backed up")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    storage = models.CharField(max_length=32, default="local")
    storage_target = models.ForeignKey(StorageTarget, null=True, blank=True, on_delete=models.PROTECT, related_name="backups",
                                       help_text="Empty: the installation's local backup directory")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.FULL)
    # Incremental volume backups: `parent` is the backup this one's changes are relative to (the
    # full or the previous increment), `base` the full the chain starts with. PROTECT: a full
    # or an increment that a later increment needs cannot be deleted.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    base = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="increments")
    folder = models.CharField(max_length=300, help_text="Storage name of the backup's folder")
    encrypted = models.BooleanField(default=False)
    key_id = models.CharField(max_length=40, blank=True)
    size = models.BigIntegerField(default=0, help_text="Stored bytes, all artifacts")
    content_size = models.BigIntegerField(default=0, help_text="Uncompressed bytes, all artifacts")
    manifest = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_ok = models.BooleanField(null=True, blank=True)
    drill = models.JSONField(default=dict, blank=True, help_text="The last restore drill's result (verify with drill)")
    flagged = models.CharField(max_length=300, blank=True, help_text="Why retention refused to prune (e.g. suspiciously small)")
    schedule = models.ForeignKey("backups.BackupSchedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="backups")
    operation = models.ForeignKey("activity.Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.target_name} ({self.created_at:%Y-%m-%d %H:%M})" if self.created_at else self.target_name


class Restore(TeamOwnedModel):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="restores")
    host = models.ForeignKey("hosts.DockerHost", null=True, on_delete=models.SET_NULL, related_name="+")
    target_name = models.CharField(max_length=300, help_text="The volume, container or image restored into")
    overwrite = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    operation = models.ForeignKey("activity.Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"restore of {self.backup.target_name} into {self.target_name}"


class BackupSchedule(TeamOwnedModel):
    """A cron schedule (django-celery-beat) with a retention policy."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Backup.Kind.choices, default=Backup.Kind.VOLUME)
    host = models.ForeignKey("hosts.DockerHost", on_delete=models.CASCADE, related_name="+")
    target_name = models.CharField(max_length=300)
    cron = models.CharField(max_length=100, default="0 3 * * *", help_text="minute hour day-of-month month day-of-week")
    encrypt = models.BooleanField(default=False)
    incremental = models.BooleanField(default=False, help_text="Volumes: store only the files changed since the last full backup")
    storage_target = models.ForeignKey(StorageTarget, null=True, blank=True, on_delete=models.PROTECT, related_name="schedules")
    enabled = models.BooleanField(default=True)
    keep_last = models.PositiveIntegerField(default=7)
    keep_daily = models.PositiveIntegerField(default=0)
    keep_weekly = models.PositiveIntegerField(default=0)
    keep_monthly = models.PositiveIntegerField(default=0)
    periodic_task = models.OneToOneField("django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="backupschedule_unique_team_name")]

    def __str__(self):
        return self.name
