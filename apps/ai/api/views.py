from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.alerts.models import Alert
from apps.core.api import TeamScopedReadOnlyViewSet, TeamScopedViewSet, accepted, user_may
from apps.core.roles import Action

from .. import chat, fixes, services
from ..models import AIProviderSettings, Analysis, Conversation, FixProposal
from . import serializers as s


def _target(request, queryset, pk, action: str):
    obj = get_object_or_404(queryset.for_user(request.user, Action.VIEW), pk=pk)
    if not user_may(request.user, obj.team_id, action):
        raise exceptions.PermissionDenied("Your role in this team does not allow this action.")
    return obj


class AnalysisViewSet(TeamScopedReadOnlyViewSet):
    serializer_class = s.AnalysisSerializer
    queryset = Analysis.objects.prefetch_related("steps", "fixes")
    filterset_fields = ["container", "host", "alert", "status", "provider", "target_kind", "mode"]
    ordering_fields = ["created_at"]
    action_roles = {"create": Action.OPERATE, "preview": Action.VIEW}

    def _target_from_body(self, request, action: str):
        from apps.containers.models import Container
        from apps.hosts.models import DockerHost

        body = s.AnalysisCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        self.agents = body.validated_data.get("agents", False)
        if body.validated_data.get("alert"):
            return {"alert": _target(request, Alert.objects.select_related("rule"), body.validated_data["alert"], action)}
        if body.validated_data.get("container"):
            container = _target(request, Container.objects.present(), body.validated_data["container"], action)
            return {"container": container}
        return {"host": _target(request, DockerHost.objects.all(), body.validated_data["host"], action)}

    @extend_schema(request=s.AnalysisCreateSerializer, responses={202: None})
    def create(self, request):
        """Analyse a container or a host (202 with the Operation; the analysis id in the body)."""
        target = self._target_from_body(request, Action.OPERATE)
        mode = Analysis.Mode.AGENTS if self.agents else Analysis.Mode.DETECTORS
        analysis = _request(request.user, target, mode)
        response = accepted(analysis.operation, request)
        response.data["analysis"] = analysis.pk
        return response

    @extend_schema(request=s.AnalysisCreateSerializer, responses={200: None})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Exactly what an analysis of this container would send to the provider (redacted)."""
        target = self._target_from_body(request, Action.VIEW)
        if "container" not in target:
            raise exceptions.ValidationError({"container": ["Preview takes a container."]})
        return Response(services.preview_container(target["container"]))


def _request(user, target: dict, mode: str) -> Analysis:
    if "alert" in target:
        alert = target["alert"]
        if mode == Analysis.Mode.AGENTS and alert.target_kind != "container":
            raise exceptions.ValidationError({"agents": ["Agents analyse one container; this alert is about a host."]})
        return services.request_alert_analysis(user, alert, mode=mode)
    return services.request_analysis(user, **target, mode=mode)


class FixProposalViewSet(TeamScopedReadOnlyViewSet):
    """Fixes a detector or an agent proposed; an operator approves (it runs as an Operation
    through recreate-with-rollback) or rejects them."""

    serializer_class = s.FixProposalSerializer
    queryset = FixProposal.objects.select_related("container")
    filterset_fields = ["container", "analysis", "kind", "status"]
    ordering_fields = ["created_at"]
    action_roles = {"approve": Action.OPERATE, "reject": Action.OPERATE}

    @extend_schema(request=s.FixApproveSerializer, responses={202: None})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        fix = self.get_object()
        body = s.FixApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fix = fixes.request_approve(request.user, fix, health_seconds=body.validated_data.get("health_seconds"))
        response = accepted(fix.operation, request)
        response.data["fix"] = fix.pk
        return response

    @extend_schema(request=None, responses={200: s.FixProposalSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return Response(s.FixProposalSerializer(fixes.request_reject(request.user, self.get_object())).data)


class AISettingsViewSet(TeamScopedViewSet):
    serializer_class = s.AISettingsSerializer
    queryset = AIProviderSettings.objects.all()

    def perform_create(self, serializer):
        if AIProviderSettings.objects.filter(team=self.team).exists():
            raise exceptions.ValidationError({"team": ["This team already has AI settings: PATCH them."]})
        serializer.save(team=self.team)


class ConversationViewSet(TeamScopedReadOnlyViewSet):
    """Chats about a container or an incident (alert). Viewers read them; operators and
    admins start them and send messages (POST messages/ answers without streaming; the
    WebSocket /ws/ai/chat/<id>/ streams)."""

    serializer_class = s.ConversationSerializer
    queryset = Conversation.objects.all()
    filterset_fields = ["container", "alert", "provider"]
    ordering_fields = ["created_at", "updated_at"]
    action_roles = {"create": Action.OPERATE, "messages": Action.VIEW, "send_message": Action.OPERATE,
                    "update": Action.OPERATE, "partial_update": Action.OPERATE, "destroy": Action.OPERATE}

    @extend_schema(request=s.ConversationRenameSerializer, responses={200: s.ConversationSerializer})
    def update(self, request, pk=None):
        """Rename: {title} (operators and admins of its team; audited)."""
        conversation = self.get_object()
        body = s.ConversationRenameSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            chat.rename(request.user, conversation, body.validated_data["title"])
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from None
        return Response(s.ConversationSerializer(conversation).data)

    @extend_schema(request=s.ConversationRenameSerializer, responses={200: s.ConversationSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Delete the conversation and its messages (operators and admins of its team; audited)."""
        chat.delete(request.user, self.get_object())
        return Response(status=204)

    @extend_schema(request=s.ConversationCreateSerializer, responses={201: s.ConversationSerializer})
    def create(self, request):
        """Start a conversation about a container or an alert (of a team you operate in)."""
        from apps.alerts.models import Alert
        from apps.containers.models import Container

        body = s.ConversationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("container"):
            target = {"container": _target(request, Container.objects.present(), data["container"], Action.OPERATE)}
        else:
            target = {"alert": _target(request, Alert.objects.select_related("rule"), data["alert"], Action.OPERATE)}
        team = next(iter(target.values())).team
        conversation = chat.start(request.user, team=team, title=data.get("title", ""), **target)
        return Response(s.ConversationSerializer(conversation).data, status=201)

    @extend_schema(responses={200: s.ChatMessageSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def messages(self, request, pk=None):
        """The conversation's messages, as the person sees them (placeholders restored)."""
        return Response(chat.shown(self.get_object()))

    @extend_schema(request=s.ChatSendSerializer, responses={200: None})
    @messages.mapping.post
    def send_message(self, request, pk=None):
        """Send {content}; the answer comes back whole (the WebSocket streams it)."""
        conversation = self.get_object()
        body = s.ChatSendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            turn = chat.send(conversation, request.user, body.validated_data["content"])
        except chat.ChatError as exc:
            if exc.upstream:
                return Response({"error": {"code": "provider_failed", "message": str(exc), "details": {}}}, status=502)
            raise exceptions.ValidationError({"content": [str(exc)]}) from None
        redactor = conversation.redactor()
        return Response({"conversation": s.ConversationSerializer(conversation).data,
                         "question": chat.message_dict(turn.question, redactor),
                         "answer": chat.message_dict(turn.answer, redactor)})
