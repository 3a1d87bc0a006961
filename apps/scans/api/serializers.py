from django.utils import timezone
from rest_framework import serializers

from ..models import AuditExclusion, ConfigAudit, Finding, Policy, Scan, Suppression, VulnerabilityDatabase


class ScanSerializer(serializers.ModelSerializer):
    stale = serializers.SerializerMethodField()

    class Meta:
        model = Scan
        fields = ["id", "team", "host", "image", "operation", "image_ref", "image_digest", "repo", "source", "status", "error",
                  "started_at", "finished_at", "duration", "os", "package_count", "databases", "stale", "matched_at",
                  "exposure", "counts", "image_checks", "policy_results", "created_at"]
        read_only_fields = fields

    def get_stale(self, obj) -> bool:
        return bool(obj.stale_databases)


class ScanCreateSerializer(serializers.Serializer):
    image = serializers.IntegerField(help_text="Id of a mirrored image")


class FindingSerializer(serializers.ModelSerializer):
    suppressed = serializers.BooleanField(source="is_suppressed", read_only=True)
    image_ref = serializers.CharField(source="scan.image_ref", read_only=True)

    class Meta:
        model = Finding
        fields = ["id", "team", "scan", "image_ref", "vulnerability_id", "aliases", "summary", "package", "package_type",
                  "ecosystem", "version", "fixed_version", "severity", "cvss_score", "links", "purl", "path", "layer",
                  "rank", "suppressed", "suppression"]
        read_only_fields = fields


class SuppressionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suppression
        fields = ["id", "team", "vulnerability_id", "package", "image_repo", "reason", "expires_at", "created_by", "created_at"]
        read_only_fields = ["id", "team", "created_by", "created_at"]

    def validate_reason(self, value):
        if len(value.strip()) < 3:
            raise serializers.ValidationError("Say why this finding is suppressed.")
        return value.strip()

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("The expiry must be in the future.")
        return value


class ConfigAuditSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConfigAudit
        fields = ["id", "team", "host", "container", "operation", "container_name", "container_docker_id", "image_ref",
                  "results", "failed", "created_at"]
        read_only_fields = fields


class ConfigAuditCreateSerializer(serializers.Serializer):
    container = serializers.IntegerField(help_text="Id of a mirrored container")


class AuditExclusionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditExclusion
        fields = ["id", "team", "check_id", "container_name", "reason", "created_at"]
        read_only_fields = ["id", "team", "created_at"]


class PolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = Policy
        fields = ["id", "team", "name", "rule", "severity", "enforcement", "enabled", "created_at", "updated_at"]
        read_only_fields = ["id", "team", "created_at", "updated_at"]
        validators = []  # (team, name) is checked below with a field error

    def validate_name(self, value):
        team = self.context.get("team") or getattr(self.instance, "team", None)
        qs = Policy.objects.filter(team=team, name=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if team is not None and qs.exists():
            raise serializers.ValidationError("A policy with this name exists in the team.")
        return value


class VulnerabilityDatabaseSerializer(serializers.ModelSerializer):
    age_days = serializers.SerializerMethodField()
    stale = serializers.BooleanField(source="is_stale", read_only=True)

    class Meta:
        model = VulnerabilityDatabase
        fields = ["id", "team", "name", "kind", "source", "imported_at", "newest_record_at", "record_count", "ecosystems",
                  "age_days", "stale"]
        read_only_fields = fields

    def get_age_days(self, obj) -> float:
        return round(obj.age.total_seconds() / 86400, 1)


class DatabaseUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    team = serializers.IntegerField(required=False)
