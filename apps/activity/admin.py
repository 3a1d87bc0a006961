"""Activity in the admin: events, audit records and operations, read-only and team-scoped.
Operators may ask an operation to stop ("Request cancel"), as in the portal and API."""

from django.contrib import admin, messages
from django.utils.translation import ngettext

from apps.core.admin import ReadOnlyTeamScopedAdmin
from apps.core.roles import Action

from . import operations
from .models import AuditEvent, Event, Operation


@admin.register(Event)
class EventAdmin(ReadOnlyTeamScopedAdmin):
    list_display = ("occurred_at", "kind", "severity", "team", "host_name", "target_name", "summary")
    list_filter = ("team", "severity", "kind")
    search_fields = ("summary", "target_name", "host_name", "kind")
    date_hierarchy = "occurred_at"
    list_select_related = ("team",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyTeamScopedAdmin):
    list_display = ("created_at", "actor_name", "via", "action", "name", "object_type", "object_repr", "team")
    list_filter = ("team", "action", "via", "object_type")
    search_fields = ("object_repr", "actor_name", "name", "object_id", "request_id")
    date_hierarchy = "created_at"
    list_select_related = ("team",)


@admin.register(Operation)
class OperationAdmin(ReadOnlyTeamScopedAdmin):
    list_display = ("created_at", "kind", "target_name", "status", "progress", "cancel_requested", "created_by", "team")
    list_filter = ("team", "status", "kind")
    search_fields = ("kind", "target_name", "target_id", "error")
    date_hierarchy = "created_at"
    list_select_related = ("team", "created_by")
    actions = ["request_cancel"]

    def has_operate_permission(self, request):
        return self._may(request, Action.OPERATE)

    @admin.action(description="Request cancel", permissions=["operate"])
    def request_cancel(self, request, queryset):
        # Only operations of teams where the user may operate; viewers' picks are refused.
        allowed = queryset.for_user(request.user, Action.OPERATE)
        refused = queryset.count() - allowed.count()
        cancelled = sum(1 for op in allowed if operations.request_cancel(op))
        self.message_user(
            request, ngettext("Cancel requested for %d operation.", "Cancel requested for %d operations.", cancelled) % cancelled, messages.SUCCESS
        )
        if refused:
            self.message_user(request, f"{refused} operation(s) skipped: your role may not cancel them.", messages.WARNING)
