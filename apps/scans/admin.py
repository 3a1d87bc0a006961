from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from apps.core.admin import ReadOnlyTeamScopedAdmin, TeamScopedAdmin

from . import services
from .models import (
    AffectedPackage,
    AuditExclusion,
    ConfigAudit,
    Finding,
    Policy,
    Scan,
    Suppression,
    Vulnerability,
    VulnerabilityDatabase,
)


@admin.register(VulnerabilityDatabase)
class VulnerabilityDatabaseAdmin(TeamScopedAdmin):
    list_display = ("name", "team", "kind", "record_count", "imported_at", "newest_record_at")
    list_filter = (*TeamScopedAdmin.list_filter, "kind")
    search_fields = ("name", "source")
    readonly_fields = ("kind", "source", "imported_at", "newest_record_at", "record_count", "ecosystems", "created_at", "updated_at")
    actions = ["rematch"]

    def has_add_permission(self, request):
        return False  # imports go through the portal, the API or `manage.py import_osv`

    @admin.action(description="Re-match the latest scans against the databases")
    def rematch(self, request, queryset):
        for team in {db.team for db in queryset}:
            count = services.rematch_team(team)
            self.message_user(request, f"{team}: re-matched {count} scans", messages.SUCCESS)


class _ViaDatabaseAdmin(ReadOnlyTeamScopedAdmin):
    team_path = "database__team"
    list_filter = (("database", admin.RelatedOnlyFieldListFilter),)

    def get_queryset(self, request):
        return self.model.objects.select_related("database").for_user(request.user)


@admin.register(Vulnerability)
class VulnerabilityAdmin(_ViaDatabaseAdmin):
    list_display = ("osv_id", "database", "severity", "cvss_score", "modified")
    list_filter = (*_ViaDatabaseAdmin.list_filter, "severity")
    search_fields = ("osv_id", "summary")


@admin.register(AffectedPackage)
class AffectedPackageAdmin(_ViaDatabaseAdmin):
    list_display = ("vulnerability", "ecosystem", "name")
    list_filter = (*_ViaDatabaseAdmin.list_filter, "ecosystem")
    search_fields = ("name", "vulnerability__osv_id")


class FindingInline(admin.TabularInline):
    model = Finding
    fields = ("vulnerability_id", "package", "version", "fixed_version", "severity", "rank", "suppression")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0


@admin.register(Scan)
class ScanAdmin(ReadOnlyTeamScopedAdmin):
    list_display = ("image_ref", "team", "host", "status", "package_count", "counts", "created_at")
    list_filter = (*TeamScopedAdmin.list_filter, "status", "source")
    search_fields = ("image_ref", "repo", "image_digest")
    exclude = ("sbom",)
    inlines = [FindingInline]
    actions = ["rescan"]

    @admin.action(description="Scan these images again")
    def rescan(self, request, queryset):
        for scan in queryset.select_related("image"):
            if scan.image is None or scan.image.is_removed:
                self.message_user(request, f"{scan.image_ref}: the image is gone", messages.WARNING)
                continue
            try:
                services.request_scan(request.user, scan.image, image_ref=scan.image_ref)
            except PermissionDenied as exc:
                self.message_user(request, f"{scan.image_ref}: {exc}", messages.ERROR)
                continue
            self.message_user(request, f"{scan.image_ref}: scan started", messages.SUCCESS)


@admin.register(Finding)
class FindingAdmin(ReadOnlyTeamScopedAdmin):
    list_display = ("vulnerability_id", "package", "version", "fixed_version", "severity", "rank", "scan", "team")
    list_filter = (*TeamScopedAdmin.list_filter, "severity", "package_type")
    search_fields = ("vulnerability_id", "package", "summary")


@admin.register(Suppression)
class SuppressionAdmin(TeamScopedAdmin):
    list_display = ("vulnerability_id", "package", "image_repo", "team", "expires_at", "created_by")
    search_fields = ("vulnerability_id", "package", "reason")
    readonly_fields = ("created_by", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        services.apply_suppressions(obj.team)


@admin.register(ConfigAudit)
class ConfigAuditAdmin(ReadOnlyTeamScopedAdmin):
    list_display = ("container_name", "image_ref", "team", "host", "failed", "created_at")
    search_fields = ("container_name", "image_ref", "container_docker_id")


@admin.register(AuditExclusion)
class AuditExclusionAdmin(TeamScopedAdmin):
    list_display = ("check_id", "container_name", "team", "reason")
    search_fields = ("check_id", "container_name", "reason")


@admin.register(Policy)
class PolicyAdmin(TeamScopedAdmin):
    list_display = ("name", "team", "rule", "severity", "enforcement", "enabled")
    list_filter = (*TeamScopedAdmin.list_filter, "rule", "enforcement", "enabled")
    search_fields = ("name",)
