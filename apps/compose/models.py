"""Compose stacks ("projects"), the versions of their files, stack folders and templates.

The files on disk are what the Compose CLI runs; the portal keeps every version it wrote
(with the `.env` text encrypted) so an edit can be diffed against what is deployed and rolled
back.
"""

from django.conf import settings
from django.db import models

from apps.core.fields import EncryptedTextField
from apps.core.models import TeamOwnedModel, TimestampedModel
from apps.core.querysets import TeamScopedQuerySet


class ComposeProject(TeamOwnedModel):
    """One Compose project on one host, found from container labels or a stack folder, or
    created here. `managed` once the portal owns its files (created here or taken over)."""

    class Source(models.TextChoices):
        LABELS = "labels", "Running containers"
        FOLDER = "folder", "Stack folder"
        PORTAL = "portal", "Created in DockerForge"

    host = models.ForeignKey("hosts.DockerHost", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255, help_text="The Compose project name")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.PORTAL)
    working_dir = models.CharField(max_length=1000, blank=True)
    config_files = models.JSONField(default=list, blank=True, help_text="Compose files, absolute paths")
    managed = models.BooleanField(default=False, help_text="DockerForge owns the files (created here or taken over)")
    files_reachable = models.BooleanField(default=False)
    services = models.JSONField(default=list, blank=True, help_text="Service names seen in the file or on the host")
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["host", "name"], name="composeproject_unique_host_name")]

    def __str__(self):
        return self.name

    @property
    def main_file(self) -> str:
        return self.config_files[0] if self.config_files else ""


class VersionQuerySet(TeamScopedQuerySet):
    team_field = "project__team"


class ComposeFileVersion(TimestampedModel):
    """A version of a project's compose file and `.env`, as written by the portal."""

    project = models.ForeignKey(ComposeProject, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    compose_text = models.TextField()
    env_text = EncryptedTextField(blank=True, help_text="The .env file (stored encrypted)")
    comment = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deployed_at = models.DateTimeField(null=True, blank=True, help_text="When `up` last ran with this version")

    objects = VersionQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["project", "-number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="composefileversion_unique_number")]

    def __str__(self):
        return f"{self.project} v{self.number}"

    @property
    def team(self):
        return self.project.team

    @property
    def team_id(self):  # the audit log files the version under its project's team
        return self.project.team_id


class FolderQuerySet(TeamScopedQuerySet):
    team_field = "host__team"


class StackFolder(TimestampedModel):
    """A folder on a host whose sub-folders hold Compose projects (one per sub-folder)."""

    host = models.ForeignKey("hosts.DockerHost", on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=1000, help_text="Absolute path on the host, e.g. /opt/stacks")

    objects = FolderQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["host", "path"], name="stackfolder_unique_host_path")]

    def __str__(self):
        return f"{self.host}:{self.path}"

    @property
    def team(self):
        return self.host.team

    @property
    def team_id(self):
        return self.host.team_id


class ComposeTemplate(TeamOwnedModel):
    """A team's own template: a compose file whose `${VARIABLES}` are asked for at deploy
    time and written to the new stack's `.env`."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    compose_text = models.TextField()
    # [{"name", "default", "description", "secret"}]
    variables = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="composetemplate_unique_team_name")]

    def __str__(self):
        return self.name
