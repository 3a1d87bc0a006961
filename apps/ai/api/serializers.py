from rest_framework import serializers

from ..models import AgentStep, AIProviderSettings, Analysis, FixProposal


class AgentStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgentStep
        fields = ["number", "agent", "tool", "input", "output_summary", "input_tokens", "output_tokens", "created_at"]
        read_only_fields = fields


class FixProposalSerializer(serializers.ModelSerializer):
    container_name = serializers.CharField(source="container.name", default=None, read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = FixProposal
        fields = ["id", "team", "container", "container_name", "analysis", "kind", "kind_display", "params", "rationale", "source",
                  "status", "approved_by",
                  "approved_at", "operation", "result", "created_at", "updated_at"]
        read_only_fields = fields


class FixApproveSerializer(serializers.Serializer):
    health_seconds = serializers.FloatField(required=False, min_value=0, max_value=600,
                                            help_text="How long the fixed container must keep running (default: the recreate setting)")


class AnalysisSerializer(serializers.ModelSerializer):
    explanation = serializers.SerializerMethodField(help_text="The answer, with redacted values restored")
    citations_ok = serializers.BooleanField(read_only=True)
    steps = AgentStepSerializer(many=True, read_only=True)
    fixes = FixProposalSerializer(many=True, read_only=True)

    class Meta:
        model = Analysis
        fields = ["id", "team", "target_kind", "container", "host", "alert", "target_name", "operation", "status", "mode", "agent_status",
                  "findings", "evidence", "explanation", "citations", "invalid_citations", "citations_ok", "provider", "model",
                  "prompt_version", "input_hash", "cached_from", "input_tokens", "output_tokens", "cost_usd", "error", "steps", "fixes",
                  "created_at"]
        read_only_fields = fields

    def get_explanation(self, obj) -> str:
        return obj.restored_explanation()


class AnalysisCreateSerializer(serializers.Serializer):
    container = serializers.IntegerField(required=False, min_value=1)
    host = serializers.IntegerField(required=False, min_value=1)
    alert = serializers.IntegerField(required=False, min_value=1, help_text="Analyse the alert's container or host, with its metric window")
    agents = serializers.BooleanField(required=False, default=False, help_text="Run the coordinator and its specialised agents")

    def validate(self, attrs):
        if sum(bool(attrs.get(k)) for k in ("container", "host", "alert")) != 1:
            raise serializers.ValidationError({"non_field_errors": ["Give exactly one of container, host or alert."]})
        if attrs.get("agents") and attrs.get("host"):
            raise serializers.ValidationError({"agents": ["Agents analyse one container: give a container or a container's alert."]})
        return attrs


class AISettingsSerializer(serializers.ModelSerializer):
    api_key = serializers.CharField(write_only=True, required=False, allow_blank=True, style={"input_type": "password"})
    has_key = serializers.SerializerMethodField()

    class Meta:
        model = AIProviderSettings
        fields = ["id", "team", "provider", "model", "api_key", "has_key", "use_installation_key", "base_url", "updated_at"]
        read_only_fields = ["id", "team", "has_key", "updated_at"]

    def get_has_key(self, obj) -> bool:
        return bool(obj.api_key)

    def validate_provider(self, value):
        from apps.core.registries import ai_providers

        if value not in ai_providers:
            raise serializers.ValidationError(f"Unknown provider; one of {', '.join(n for n, _ in ai_providers.items())}.")
        return value

    def validate_base_url(self, value):
        from ..forms import AISettingsForm

        form = AISettingsForm(data={"base_url": value})
        form.is_valid()
        if "base_url" in form.errors:
            raise serializers.ValidationError(form.errors["base_url"])
        return form.cleaned_data.get("base_url", "")

    def update(self, instance, validated_data):
        if validated_data.get("api_key", None) in ("", None):
            validated_data.pop("api_key", None)  # an empty key keeps the current one
        return super().update(instance, validated_data)


class ConversationSerializer(serializers.ModelSerializer):
    target_kind = serializers.CharField(read_only=True)
    summary = serializers.SerializerMethodField(help_text="Summary of the turns older than the memory budget (restored)")
    message_count = serializers.SerializerMethodField()

    class Meta:
        from ..models import Conversation

        model = Conversation
        fields = ["id", "team", "target_kind", "container", "alert", "target_name", "title", "created_by", "summary",
                  "summarized_through", "message_count", "provider", "model", "input_tokens", "output_tokens", "cost_usd",
                  "created_at", "updated_at"]
        read_only_fields = fields

    def get_summary(self, obj) -> str:
        return obj.redactor().restore(obj.summary)

    def get_message_count(self, obj) -> int:
        return obj.messages.count()


class ConversationCreateSerializer(serializers.Serializer):
    container = serializers.IntegerField(required=False, min_value=1)
    alert = serializers.IntegerField(required=False, min_value=1)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate(self, attrs):
        if bool(attrs.get("container")) == bool(attrs.get("alert")):
            raise serializers.ValidationError({"non_field_errors": ["Give exactly one of container or alert."]})
        return attrs


class ChatMessageSerializer(serializers.Serializer):
    """A message as the person sees it (placeholders restored)."""

    id = serializers.IntegerField()
    seq = serializers.IntegerField()
    role = serializers.CharField()
    content = serializers.CharField()
    error = serializers.CharField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    created_at = serializers.CharField()


class ChatSendSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=8000, trim_whitespace=True)


class ConversationRenameSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, help_text="The new title")
