from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.admin import ReadOnlyTeamScopedAdmin, TeamScopedAdmin

from . import runs, services
from .models import UpdateCheck, UpdatePolicy, UpdateRun, UpdateWindow


@admin.register(UpdatePolicy)
class UpdatePolicyAdmin(TeamScopedAdmin):
    list_display = ("__str__", "team", "strategy", "auto_update", "monitor_only", "allow_prerelease")
    list_filter = (*TeamScopedAdmin.list_filter, "strategy", "auto_update", "monitor_only")
    search_fields = ("container__name",)
    raw_id_fields = ("container",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(UpdateWindow)
class UpdateWindowAdmin(TeamScopedAdmin):
    list_display = ("name", "team", "weekdays", "start", "duration_minutes", "enabled")
    list_filter = (*TeamScopedAdmin.list_filter, "enabled")
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(UpdateCheck)
class UpdateCheckAdmin(ReadOnlyTeamScopedAdmin):
    list_display = ("container", "team", "image_ref", "status", "target_ref", "checked_at")
    list_filter = (*ReadOnlyTeamScopedAdmin.list_filter, "status", "digest_update")
    search_fields = ("image_ref", "container__name")
    actions = ["check_again", "update_now"]

    @admin.action(description="Check these containers again")
    def check_again(self, request, queryset):
        for check in queryset.select_related("container", "container__team"):
            try:
                services.request_check(request.user, check.container.team, check.container)
            except PermissionDenied as exc:
                self.message_user(request, f"{check.container}: {exc}", messages.ERROR)

    @admin.action(description="Update these containers to their targets")
    def update_now(self, request, queryset):
        for check in queryset.select_related("container"):
            try:
                runs.request_update(request.user, check.container)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{check.container}: {' '.join(getattr(exc, 'messages', [str(exc)]))}", messages.ERROR)


@admin.register(UpdateRun)
class UpdateRunAdmin(ReadOnlyTeamScopedAdmin):
    list_display = ("container_name", "team", "kind", "from_ref", "to_ref", "status", "override", "automatic", "created_at")
    list_filter = (*ReadOnlyTeamScopedAdmin.list_filter, "kind", "status", "override", "automatic")
    search_fields = ("container_name", "from_ref", "to_ref")
