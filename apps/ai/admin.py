from django.contrib import admin

from apps.core.admin import TeamScopedAdmin

from .models import AgentStep, AIProviderSettings, Analysis, Conversation, FixProposal


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
                                   "mode", "agent_status", "alert",
                                   "created_at", "updated_at"]]

    def has_add_permission(self, request):
        return False


class ChatMessageInline(admin.TabularInline):
    from .models import ChatMessage

    model = ChatMessage
    fields = ["seq", "role", "content", "author", "input_tokens", "output_tokens", "error", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(TeamScopedAdmin):
    """Messages show as stored: redacted (the placeholders' values are not shown here)."""

    list_display = ["__str__", "team", "target_name", "provider", "model", "input_tokens", "output_tokens", "cost_usd", "updated_at"]
    list_filter = ["provider"]
    search_fields = ["title", "target_name"]
    exclude = ["redaction_map"]
    readonly_fields = ["team", "container", "alert", "target_name", "created_by", "summary", "summarized_through", "provider", "model",
                       "input_tokens", "output_tokens", "cost_usd", "created_at", "updated_at"]
    inlines = [ChatMessageInline]

    def has_add_permission(self, request):
        return False


@admin.register(AgentStep)
class AgentStepAdmin(TeamScopedAdmin):
    list_display = ["analysis", "number", "agent", "tool", "input_tokens", "output_tokens", "created_at"]
    list_filter = ["agent", "tool"]
    search_fields = ["agent", "tool", "output_summary"]
    readonly_fields = ["team", "analysis", "number", "agent", "tool", "input", "output_summary", "input_tokens", "output_tokens",
                       "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False


@admin.register(FixProposal)
class FixProposalAdmin(TeamScopedAdmin):
    """Approving runs through the API or the analysis page (an Operation with verification)."""

    list_display = ["kind", "container", "team", "status", "source", "approved_by", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["rationale", "source", "container__name"]
    readonly_fields = ["team", "container", "analysis", "kind", "params", "rationale", "source", "status", "approved_by", "approved_at",
                       "operation", "result", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False
