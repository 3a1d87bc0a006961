from django.contrib import admin

from apps.core.admin import TeamScopedAdmin
from apps.core.roles import Action

from . import services
from .models import ComposeFileVersion, ComposeProject, ComposeTemplate, StackFolder


@admin.register(ComposeProject)
class ComposeProjectAdmin(TeamScopedAdmin):
    list_display = ("name", "host", "team", "source", "managed", "files_reachable", "last_seen_at")
    list_filter = TeamScopedAdmin.list_filter + ("source", "managed")
    search_fields = ("name", "working_dir")
    readonly_fields = ("source", "working_dir", "config_files", "files_reachable", "services", "last_seen_at", "created_at", "updated_at")
    actions = ["take_over"]

    @admin.action(description="Take over the selected stacks (files must be reachable)")
    def take_over(self, request, queryset):
        for project in queryset.for_user(request.user, Action.MANAGE):
            try:
                services.take_over(request.user, project)
            except Exception as exc:  # noqa: BLE001 - reported per stack
                self.message_user(request, f"{project}: {exc}", level="error")


@admin.register(ComposeFileVersion)
class ComposeFileVersionAdmin(TeamScopedAdmin):
    team_path = "project__team"
    list_display = ("project", "number", "comment", "created_by", "created_at", "deployed_at")
    list_filter = (("project__team", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("project__name", "comment")
    # The .env is never shown here (encrypted at rest, masked everywhere).
    exclude = ("env_text",)
    readonly_fields = ("project", "number", "compose_text", "comment", "created_by", "created_at", "deployed_at")

    def has_add_permission(self, request):
        return False  # versions are written by saving files, never by hand

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StackFolder)
class StackFolderAdmin(TeamScopedAdmin):
    team_path = "host__team"
    list_display = ("path", "host")
    list_filter = (("host__team", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("path", "host__name")


@admin.register(ComposeTemplate)
class ComposeTemplateAdmin(TeamScopedAdmin):
    list_display = ("name", "team", "description", "updated_at")
    search_fields = ("name", "description")
