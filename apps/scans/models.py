"""Scans: imported vulnerability databases, image scans (SBOM + findings), suppressions,
config audits with exclusions, and team policies."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import TeamOwnedModel
from apps.core.querysets import TeamScopedQuerySet

SEVERITY_CHOICES = [(s, s.title()) for s in ("unknown", "low", "medium", "high", "critical")]


class VulnerabilityDatabase(TeamOwnedModel):
    """One import of OSV (or trivy/grype) data; its age drives the staleness shown on reports."""

    class Kind(models.TextChoices):
        OSV = "osv", "OSV"
        TRIVY = "trivy", "Trivy JSON"
        GRYPE = "grype", "Grype JSON"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OSV)
    source = models.CharField(max_length=500, blank=True, help_text="Where the data came from (file, directory, upload)")
    imported_at = models.DateTimeField(default=timezone.now)
    newest_record_at = models.DateTimeField(null=True, blank=True, help_text="Latest `modified` among the records")
    record_count = models.IntegerField(default=0)
    ecosystems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self):
        return self.name

    @property
    def age(self) -> timedelta:
        return timezone.now() - (self.newest_record_at or self.imported_at)

    @property
    def is_stale(self) -> bool:
        return self.age > timedelta(days=settings.SCANS_DB_STALE_DAYS)


class _ViaDatabase(TeamScopedQuerySet):
    team_field = "database__team"  # the team lives on the database the record came from


class Vulnerability(models.Model):
    database = models.ForeignKey(VulnerabilityDatabase, on_delete=models.CASCADE, related_name="vulnerabilities")
    osv_id = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    aliases = models.JSONField(default=list, blank=True)
    severity = models.CharField(max_length=10, choices=SEVERITY_CHOICES, default="unknown")
    cvss_score = models.FloatField(null=True, blank=True)
    cvss_vector = models.CharField(max_length=200, blank=True)
    links = models.JSONField(default=list, blank=True)
    modified = models.DateTimeField(null=True, blank=True)

    objects = _ViaDatabase.as_manager()
    audited = False

    class Meta:
        ordering = ["osv_id"]
        constraints = [models.UniqueConstraint(fields=["database", "osv_id"], name="vulnerability_unique_db_id")]

    def __str__(self):
        return self.osv_id


class AffectedPackage(models.Model):
    """One OSV `affected` entry, indexed by (ecosystem, name) for matching."""

    database = models.ForeignKey(VulnerabilityDatabase, on_delete=models.CASCADE, related_name="+")
    vulnerability = models.ForeignKey(Vulnerability, on_delete=models.CASCADE, related_name="affected")
    ecosystem = models.CharField(max_length=60)
    name = models.CharField(max_length=300)
    ranges = models.JSONField(default=list, blank=True)
    versions = models.JSONField(default=list, blank=True)

    objects = _ViaDatabase.as_manager()
    audited = False

    class Meta:
        indexes = [models.Index(fields=["ecosystem", "name"])]

    def __str__(self):
        return f"{self.ecosystem}/{self.name}"


class Scan(TeamOwnedModel):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    host = models.ForeignKey("hosts.DockerHost", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    image = models.ForeignKey("containers.Image", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    operation = models.ForeignKey("activity.Operation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    image_ref = models.CharField(max_length=500)
    image_digest = models.CharField(max_length=100, blank=True, help_text="The engine's image id (sha256:...)")
    repo = models.CharField(max_length=500, blank=True, db_index=True, help_text="Repository without tag: scans of one repo diff")
    source = models.CharField(max_length=20, default="engine")  # engine | archive | trivy | grype
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    os = models.JSONField(default=dict, blank=True)
    sbom = models.JSONField(default=dict, blank=True)
    package_count = models.IntegerField(default=0)
    databases = models.JSONField(default=list, blank=True, help_text="The databases matched against, with their age")
    matched_at = models.DateTimeField(null=True, blank=True)
    exposure = models.JSONField(default=list, blank=True, help_text="privileged / host-network / ports of containers using it")
    counts = models.JSONField(default=dict, blank=True)
    image_checks = models.JSONField(default=list, blank=True)
    policy_results = models.JSONField(default=list, blank=True)

    audited = False  # the Operation records who started it; the SBOM is too big to audit

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "repo", "-created_at"])]

    def __str__(self):
        return f"{self.image_ref} @ {self.created_at:%Y-%m-%d %H:%M}" if self.created_at else self.image_ref

    @property
    def stale_databases(self) -> list[dict]:
        return [d for d in self.databases if d.get("stale")]


class SuppressionQuerySet(TeamScopedQuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class Suppression(TeamOwnedModel):
    vulnerability_id = models.CharField(max_length=200, help_text="OSV id or any alias (CVE-...)")
    package = models.CharField(max_length=300, blank=True, help_text="Only this package (blank: any)")
    image_repo = models.CharField(max_length=500, blank=True, help_text="Only this repository (blank: any)")
    reason = models.TextField()
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        ordering = ["vulnerability_id"]

    def __str__(self):
        return f"{self.vulnerability_id} ({self.package or 'any package'})"

    @property
    def is_active(self) -> bool:
        return self.expires_at is None or self.expires_at > timezone.now()


class FindingQuerySet(TeamScopedQuerySet):
    def unsuppressed(self, now=None):
        now = now or timezone.now()
        return self.filter(Q(suppression__isnull=True) | Q(suppression__expires_at__lte=now))


class Finding(TeamOwnedModel):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="findings")
    vulnerability_id = models.CharField(max_length=200, db_index=True)
    aliases = models.JSONField(default=list, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    package = models.CharField(max_length=300)
    package_type = models.CharField(max_length=10)
    ecosystem = models.CharField(max_length=60, blank=True)
    version = models.CharField(max_length=200)
    fixed_version = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=SEVERITY_CHOICES, default="unknown", db_index=True)
    cvss_score = models.FloatField(null=True, blank=True)
    links = models.JSONField(default=list, blank=True)
    purl = models.CharField(max_length=500, blank=True)
    path = models.CharField(max_length=500, blank=True)
    layer = models.CharField(max_length=200, blank=True)
    rank = models.FloatField(default=0, db_index=True)
    suppression = models.ForeignKey(Suppression, on_delete=models.SET_NULL, null=True, blank=True, related_name="findings")

    objects = FindingQuerySet.as_manager()
    audited = False

    class Meta:
        ordering = ["-rank", "vulnerability_id"]

    def __str__(self):
        return f"{self.vulnerability_id} in {self.package} {self.version}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.vulnerability_id, self.package)

    @property
    def is_suppressed(self) -> bool:
        return self.suppression_id is not None and self.suppression.is_active


class ConfigAudit(TeamOwnedModel):
    host = models.ForeignKey("hosts.DockerHost", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    container = models.ForeignKey("containers.Container", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    operation = models.ForeignKey("activity.Operation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    container_name = models.CharField(max_length=255, blank=True)
    container_docker_id = models.CharField(max_length=64, blank=True)
    image_ref = models.CharField(max_length=500, blank=True)
    results = models.JSONField(default=list, blank=True)
    failed = models.JSONField(default=list, blank=True, help_text="Ids of the failing checks")

    audited = False

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"audit of {self.container_name or self.image_ref}"


class AuditExclusion(TeamOwnedModel):
    check_id = models.CharField(max_length=60, help_text="e.g. 5.10 or CIS-DI-0006")
    container_name = models.CharField(max_length=255, blank=True, help_text="Only this container (blank: every container)")
    reason = models.TextField()

    class Meta:
        ordering = ["check_id", "container_name"]

    def __str__(self):
        return f"{self.check_id} on {self.container_name or 'all containers'}"


class Policy(TeamOwnedModel):
    class Rule(models.TextChoices):
        NO_FIXABLE = "no_fixable_vulns", "No vulnerability at/above the severity with a fix available"
        MAX_SEVERITY = "max_severity", "No vulnerability at/above the severity"
        NO_PRIVILEGED = "no_privileged", "No privileged containers"
        NO_DOCKER_SOCK = "no_docker_sock", "No docker.sock mounts"
        NO_HOST_NETWORK = "no_host_network", "No host networking"
        NO_ROOT = "no_root_user", "No containers running as root"

    class Enforcement(models.TextChoices):
        BLOCK = "block", "Block"
        WARN = "warn", "Warn"

    name = models.CharField(max_length=200)
    rule = models.CharField(max_length=30, choices=Rule.choices)
    severity = models.CharField(max_length=10, choices=SEVERITY_CHOICES, default="critical", help_text="For vulnerability rules")
    enforcement = models.CharField(max_length=10, choices=Enforcement.choices, default=Enforcement.BLOCK)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="policy_unique_team_name")]
        verbose_name_plural = "policies"

    def __str__(self):
        return self.name
