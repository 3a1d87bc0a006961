from django.contrib import admin

from apps.core.admin import TeamScopedAdmin
from apps.core.roles import Action

from . import state
from .models import Alert, AlertRule, Silence
from .validation import rule_errors


@admin.register(AlertRule)
class AlertRuleAdmin(TeamScopedAdmin):
    list_display = ("name", "team", "kind", "severity", "enabled", "describe")
    list_filter = TeamScopedAdmin.list_filter + ("kind", "severity", "enabled", "event")
    search_fields = ("name", "description")
    exclude = ("cursors",)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class Checked(form):
            def clean(self):
                data = super().clean()
                team = data.get("team") or getattr(self.instance, "team", None)
                for name, message in rule_errors(data, team).items():
                    if name not in self.errors:
                        self.add_error(name if name in self.fields else None, message)
                return data

        return Checked


@admin.register(Alert)
class AlertAdmin(TeamScopedAdmin):
    list_display = ("__str__", "team", "status", "value", "started_at", "resolved_at", "acknowledged_at", "suppressed")
    list_filter = TeamScopedAdmin.list_filter + ("status",)
    search_fields = ("target_name", "rule__name", "fingerprint")
    readonly_fields = [f.name for f in Alert._meta.fields]
    actions = ["acknowledge"]

    def has_add_permission(self, request):
        return False  # alerts are made by the evaluator

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Acknowledge the selected alerts")
    def acknowledge(self, request, queryset):
        done = sum(state.acknowledge(a, request.user) for a in queryset.for_user(request.user, Action.OPERATE))
        self.message_user(request, f"{done} alert(s) acknowledged.")


@admin.register(Silence)
class SilenceAdmin(TeamScopedAdmin):
    list_display = ("__str__", "team", "rule", "host", "target_name", "starts_at", "ends_at")
    search_fields = ("comment", "target_name")
    exclude = ("created_by",)
    manage_action = Action.OPERATE  # operators silence alerts (DESIGN.md roles)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
