"""The mirror: containers, images, volumes and networks as each engine reported them.

Rows record the engines' state, not people's actions, so they are not audited row by row
(DESIGN.md). The team is denormalised from the host so every list filters on one column.
Objects that vanish from an engine are marked removed (`removed_at`), never deleted here.
"""

from django.db import models

from apps.core.fields import EncryptedTextField
from apps.core.models import TeamOwnedModel
from apps.core.querysets import TeamScopedQuerySet


class MirrorQuerySet(TeamScopedQuerySet):
    def present(self):
        return self.filter(removed_at__isnull=True)

    def removed(self):
        return self.filter(removed_at__isnull=False)


class MirrorModel(TeamOwnedModel):
    host = models.ForeignKey("hosts.DockerHost", on_delete=models.CASCADE, related_name="+")
    labels = models.JSONField(default=dict, blank=True)
    engine_created_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = MirrorQuerySet.as_manager()
    audited = False

    class Meta:
        abstract = True

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class Container(MirrorModel):
    class State(models.TextChoices):
        CREATED = "created"
        RUNNING = "running"
        PAUSED = "paused"
        RESTARTING = "restarting"
        REMOVING = "removing"
        EXITED = "exited"
        DEAD = "dead"

    class Health(models.TextChoices):
        NONE = ""
        STARTING = "starting"
        HEALTHY = "healthy"
        UNHEALTHY = "unhealthy"

    docker_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, db_index=True)
    image = models.CharField(max_length=500, blank=True, help_text="Image reference the container was created from")
    image_id = models.CharField(max_length=100, blank=True)
    command = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.CREATED, db_index=True)
    status = models.CharField(max_length=200, blank=True, help_text="The engine's status text")
    health = models.CharField(max_length=16, choices=Health.choices, default=Health.NONE, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    oom_killed = models.BooleanField(default=False)
    restart_count = models.IntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ports = models.JSONField(default=list, blank=True)
    networks = models.JSONField(default=list, blank=True)
    mounts = models.JSONField(default=list, blank=True)
    compose_project = models.CharField(max_length=255, blank=True, db_index=True)
    compose_service = models.CharField(max_length=255, blank=True)
    inspect = models.JSONField(default=dict, blank=True, help_text="The last full inspect")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["host", "docker_id"], name="container_unique_host_docker_id")]
        indexes = [models.Index(fields=["team", "removed_at", "name"]), models.Index(fields=["host", "state"])]

    def __str__(self):
        return self.name or self.docker_id[:12]

    @property
    def short_id(self) -> str:
        return self.docker_id[:12]


class Image(MirrorModel):
    docker_id = models.CharField(max_length=100)
    repo_tags = models.JSONField(default=list, blank=True)
    repo_digests = models.JSONField(default=list, blank=True)
    # The tags joined, so lists can search them on SQLite and PostgreSQL alike.
    tags_text = models.TextField(blank=True, db_index=False)
    size = models.BigIntegerField(default=0)
    architecture = models.CharField(max_length=50, blank=True)
    os = models.CharField(max_length=50, blank=True)
    inspect = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["tags_text", "docker_id"]
        constraints = [models.UniqueConstraint(fields=["host", "docker_id"], name="image_unique_host_docker_id")]

    def __str__(self):
        return self.repo_tags[0] if self.repo_tags else self.docker_id.removeprefix("sha256:")[:12]

    @property
    def short_id(self) -> str:
        return self.docker_id.removeprefix("sha256:")[:12]


class Volume(MirrorModel):
    name = models.CharField(max_length=255)
    driver = models.CharField(max_length=100, blank=True)
    mountpoint = models.CharField(max_length=1000, blank=True)
    scope = models.CharField(max_length=20, blank=True)
    options = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["host", "name"], name="volume_unique_host_name")]

    def __str__(self):
        return self.name


class Network(MirrorModel):
    docker_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    driver = models.CharField(max_length=100, blank=True)
    scope = models.CharField(max_length=20, blank=True)
    internal = models.BooleanField(default=False)
    attachable = models.BooleanField(default=False)
    ipam = models.JSONField(default=dict, blank=True)
    # {container docker id: {"name", "ipv4", "ipv6", "mac"}} as the engine reports it
    attached = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["host", "docker_id"], name="network_unique_host_docker_id")]

    def __str__(self):
        return self.name

    @property
    def is_builtin(self) -> bool:
        return self.name in ("bridge", "host", "none")


class RegistryCredential(TeamOwnedModel):
    """Per-team login for a private registry; the password/token is stored encrypted."""

    registry = models.CharField(max_length=255, help_text="Registry host[:port], e.g. registry.example.com:5000")
    username = models.CharField(max_length=255)
    password = EncryptedTextField(help_text="Password or access token")

    objects = TeamScopedQuerySet.as_manager()
    audited = True

    class Meta:
        ordering = ["registry"]
        constraints = [models.UniqueConstraint(fields=["team", "registry"], name="registrycredential_unique_team_registry")]

    def __str__(self):
        return f"{self.username}@{self.registry}"
