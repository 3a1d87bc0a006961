from django.contrib import admin

from apps.core.admin import TeamScopedAdmin

from .admin_lifecycle import LIFECYCLE_ADMIN_ACTIONS
from .models import Container


@admin.register(Container)
class ContainerAdmin(TeamScopedAdmin):
    # Minimal until the mirror slice's admin merges; the lifecycle slice adds its actions.
    list_display = ("name", "team", "host", "image", "state", "removed_at")
    list_filter = (*TeamScopedAdmin.list_filter, "state")
    search_fields = ("name", "image", "docker_id")
    actions = [*LIFECYCLE_ADMIN_ACTIONS]

    def has_add_permission(self, request):
        return False  # containers come from engines

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
