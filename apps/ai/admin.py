from django.contrib import admin

from apps.core.admin import TeamScopedAdmin

from .models import AIProviderSettings, Analysis


@admin.register(AIProviderSettings)
class AIProviderSettingsAdmin(TeamScopedAdmin):
    list_display = ["team", "provider", "model", "use_installation_key", "updated_at"]
    list_filter = ["provider", "use_installation_key"]
    search_fields = ["team__name", "model"]
    exclude = ["api_key"]  # set through the team settings page or the API (never shown)
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Analysis)
class AnalysisAdmin(TeamScopedAdmin):
    list_display = ["target_name", "team", "target_kind", "status", "provider", "model", "input_tokens", "output_tokens", "cost_usd", "created_at"]
    list_filter = ["status", "provider", "target_kind"]
    search_fields = ["target_name", "model"]
    exclude = ["redaction_map"]
    readonly_fields = [f for f in ["team", "target_kind", "container", "host", "target_name", "operation", "created_by", "status", "findings",
                                   "evidence", "explanation", "citations", "invalid_citations", "provider", "model", "prompt_version",
                                   "input_hash", "cache_key", "cached_from", "input_tokens", "output_tokens", "cost_usd", "error",
                                   "created_at", "updated_at"]]

    def has_add_permission(self, request):
        return False
