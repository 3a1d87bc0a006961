from django.conf import settings
from django.db import models

from apps.core.fields import EncryptedTextField
from apps.core.models import TeamOwnedModel


class AIProviderSettings(TeamOwnedModel):
    """A team's provider, model and key. With no key of its own, the team uses the
    installation's key only when it opted in; otherwise the offline provider answers."""

    provider = models.CharField(max_length=50, default="offline", help_text="offline, claude, gemini, or a plugin's name")
    model = models.CharField(max_length=100, blank=True, help_text="Empty: the provider's default model")
    api_key = EncryptedTextField(blank=True)
    use_installation_key = models.BooleanField(default=False, help_text="Use the installation's key when the team has none")
    base_url = models.CharField(max_length=300, blank=True, help_text="Empty: the provider's public endpoint")

    class Meta:
        verbose_name = "AI provider settings"
        verbose_name_plural = "AI provider settings"
        constraints = [models.UniqueConstraint(fields=["team"], name="ai_settings_one_per_team")]

    def __str__(self):
        return f"AI settings of {self.team}: {self.provider}"


class Analysis(TeamOwnedModel):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    audited = False  # created by the analysis Operation (which is itself the record of who asked)

    class Mode(models.TextChoices):
        DETECTORS = "detectors"  # one provider call over the detector findings
        AGENTS = "agents"  # the coordinator and its specialised agents with read-only tools

    target_kind = models.CharField(max_length=20)  # "container" | "host"
    container = models.ForeignKey("containers.Container", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    host = models.ForeignKey("hosts.DockerHost", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_name = models.CharField(max_length=300, blank=True)
    operation = models.ForeignKey("activity.Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    findings = models.JSONField(default=list, blank=True)
    evidence = models.JSONField(default=dict, blank=True, help_text="Evidence id -> item, redacted")
    explanation = models.TextField(blank=True, help_text="The answer as the provider wrote it (redacted)")
    redaction_map = EncryptedTextField(blank=True, help_text="Placeholders -> values (JSON), to restore the answer for display")
    citations = models.JSONField(default=list, blank=True)
    invalid_citations = models.JSONField(default=list, blank=True)
    provider = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.CharField(max_length=20, blank=True)
    input_hash = models.CharField(max_length=64, blank=True)
    cache_key = models.CharField(max_length=64, blank=True, db_index=True)
    cached_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    input_tokens = models.IntegerField(default=0)
    output_tokens = models.IntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    error = models.TextField(blank=True)
    # Agents and alert analyses (migration 0002_agents_fixes).
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.DETECTORS)
    agent_status = models.CharField(max_length=32, blank=True, help_text="How the agent run ended: done, step_cap, token_budget")
    alert = models.ForeignKey("alerts.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "analyses"

    def __str__(self):
        return f"Analysis of {self.target_name} ({self.status})"

    @property
    def citations_ok(self) -> bool:
        return not self.invalid_citations

    def restored_explanation(self) -> str:
        from .redaction import Redactor

        return Redactor.from_json(self.redaction_map).restore(self.explanation)


class Conversation(TeamOwnedModel):
    """A chat about one container or one incident (alert), with its memory: the recent turns
    are sent as they are; older ones are folded into `summary` (never simply dropped).

    Messages are stored as they were sent and received (redacted); `redaction_map` (encrypted)
    restores them for display, so no secret value is stored in plaintext."""

    # Audited: its creation by the generic logger, each turn as the named action "ai.chat.message"
    # (numbers and provider only, never the text).

    container = models.ForeignKey("containers.Container", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    alert = models.ForeignKey("alerts.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_name = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    summary = models.TextField(blank=True, help_text="Summary of the turns older than the memory budget (redacted)")
    summarized_through = models.IntegerField(default=0, help_text="The summary covers turns 1..N")
    redaction_map = EncryptedTextField(blank=True, help_text="Placeholders -> values (JSON), to restore messages for display")
    provider = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=100, blank=True)
    input_tokens = models.IntegerField(default=0)
    output_tokens = models.IntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return self.title or f"Chat about {self.target_name}"

    @property
    def target_kind(self) -> str:
        return "alert" if self.alert_id else "container"

    def redactor(self, known_secrets=()):
        from .redaction import Redactor

        return Redactor.from_json(self.redaction_map, known_secrets)


class ChatMessage(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.IntegerField(help_text="Turn number in the conversation, from 1")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(help_text="As sent to / received from the provider (redacted)")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    input_tokens = models.IntegerField(default=0)
    output_tokens = models.IntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [models.UniqueConstraint(fields=["conversation", "seq"], name="ai_chat_message_seq_unique")]

    def __str__(self):
        return f"{self.role} #{self.seq} in conversation {self.conversation_id}"


class AgentStep(TeamOwnedModel):
    """One step of an agent run: which agent called which read-only tool, with what, and what
    came back (a redacted summary), with the tokens the step cost."""

    audited = False  # written by the analysis Operation

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveIntegerField()
    agent = models.CharField(max_length=32)
    tool = models.CharField(max_length=64, blank=True, help_text="Empty for a step that only answered")
    input = models.JSONField(default=dict, blank=True)
    output_summary = models.TextField(blank=True, help_text="Redacted, truncated")
    input_tokens = models.IntegerField(default=0)
    output_tokens = models.IntegerField(default=0)

    class Meta:
        ordering = ["analysis", "number"]
        constraints = [models.UniqueConstraint(fields=["analysis", "number"], name="ai_agentstep_unique_number")]

    def __str__(self):
        return f"Step {self.number} of analysis {self.analysis_id}: {self.agent} {self.tool or 'answer'}"

    @property
    def input_text(self) -> str:
        """`metric=mem tail=100` rather than a dict's repr."""
        if not isinstance(self.input, dict):
            return str(self.input or "")
        return " ".join(f"{k}={', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in self.input.items())


class FixProposal(TeamOwnedModel):
    """An action a detector or the AI proposes; an operator approves it and it runs as an
    Operation through the containers app's recreate-with-rollback service."""

    class Kind(models.TextChoices):
        RESTART = "restart"
        RAISE_MEMORY = "raise_memory", "Raise memory limit"
        RECREATE = "recreate", "Recreate with changed env/ports"
        ROLLBACK_IMAGE = "rollback_image", "Roll back image"

    class Status(models.TextChoices):
        PROPOSED = "proposed"
        APPROVED = "approved"
        APPLIED = "applied"
        ROLLED_BACK = "rolled_back", "Rolled back"
        FAILED = "failed"
        REJECTED = "rejected"

    container = models.ForeignKey("containers.Container", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    analysis = models.ForeignKey(Analysis, null=True, blank=True, on_delete=models.SET_NULL, related_name="fixes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True)
    rationale = models.TextField(blank=True)
    source = models.CharField(max_length=64, blank=True, help_text="The detector rule or agent that proposed it")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    operation = models.ForeignKey("activity.Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Fix {self.pk}: {self.get_kind_display()} for {self.container or 'a removed container'} ({self.status})"

    BADGES = {"applied": "succeeded", "rolled_back": "failed", "failed": "failed", "rejected": "removed"}

    @property
    def status_badge(self) -> str:
        """The badge class of the status (the shared badge colours)."""
        return self.BADGES.get(self.status, "pending")

    @property
    def params_text(self) -> str:
        """The change in words: "memory limit 256 MiB (swap limit raised to match)"."""
        params = self.params or {}
        if self.kind == self.Kind.RAISE_MEMORY and params.get("memory"):
            return f"memory limit {params['memory'] / 1024 / 1024:g} MiB (swap limit raised to match)"
        if self.kind == self.Kind.RECREATE:
            parts = [f"unset {k}" if v is None else f"{k}={v}" for k, v in (params.get("env") or {}).items()]
            if "ports" in params:
                parts.append("ports " + (", ".join(params["ports"]) or "none"))
            return "; ".join(parts)
        if self.kind == self.Kind.ROLLBACK_IMAGE:
            return f"image {params['image']}" if params.get("image") else "the image it ran before"
        return "the same spec, recreated and started" if self.kind == self.Kind.RESTART else ""
