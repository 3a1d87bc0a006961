from urllib.parse import urlparse

from django.db import models
from django.utils import timezone

from apps.core.fields import EncryptedTextField
from apps.core.models import TeamOwnedModel


class DockerHost(TeamOwnedModel):
    """A Docker engine a team manages: unix://, tcp:// (TLS) or ssh://."""

    class Status(models.TextChoices):
        UNKNOWN = "unknown"
        UP = "up"
        DOWN = "down"

    name = models.CharField(max_length=100)
    url = models.CharField(max_length=500, help_text="unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host:22")
    description = models.CharField(max_length=500, blank=True)
    # TLS (tcp://): CA and client certificate are public, the client key is secret.
    tls_ca_cert = models.TextField(blank=True)
    tls_client_cert = models.TextField(blank=True)
    tls_client_key = EncryptedTextField(blank=True)
    # SSH: the private key is secret; the server's host key is pinned at registration.
    ssh_private_key = EncryptedTextField(blank=True)
    ssh_host_key = models.TextField(blank=True, help_text="Pinned server host key (type and base64)")
    ssh_host_key_fingerprint = models.CharField(max_length=100, blank=True)
    # Engine facts, refreshed by "test connection" and the health sweep.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNKNOWN, db_index=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    engine_version = models.CharField(max_length=50, blank=True)
    api_version = models.CharField(max_length=20, blank=True)
    engine_info = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="dockerhost_unique_team_name")]

    def __str__(self):
        return self.name

    @property
    def scheme(self) -> str:
        return urlparse(self.url).scheme


class HostLease(models.Model):
    """Who serves long-running per-host work (sweep, events listener, collector).

    Taken and renewed with a conditional UPDATE so any number of workers can run and
    exactly one holds each (host, kind) at a time.
    """

    host = models.ForeignKey(DockerHost, on_delete=models.CASCADE, related_name="leases")
    kind = models.CharField(max_length=50)
    holder = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "kind"], name="hostlease_unique_host_kind")]

    def __str__(self):
        return f"{self.kind} lease on {self.host} by {self.holder or 'nobody'}"
