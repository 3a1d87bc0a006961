"""alert-rules/, alerts/, alerts/{id}/ack/, silences/ (DESIGN.md REST contract)."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import TeamScopedReadOnlyViewSet, TeamScopedViewSet
from apps.core.roles import Action

from .. import state
from ..models import Alert, AlertRule, Silence
from .serializers import AlertRuleSerializer, AlertSerializer, SilenceSerializer


class AlertRuleViewSet(TeamScopedViewSet):
    serializer_class = AlertRuleSerializer
    queryset = AlertRule.objects.select_related("host", "container")
    filterset_fields = ["kind", "enabled", "severity", "event", "host"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]


class AlertViewSet(TeamScopedReadOnlyViewSet):
    serializer_class = AlertSerializer
    queryset = Alert.objects.select_related("rule")
    filterset_fields = ["status", "rule", "host", "target_kind", "fingerprint"]
    search_fields = ["target_name", "rule__name"]
    ordering_fields = ["started_at", "fired_at", "resolved_at"]
    action_roles = {"ack": Action.OPERATE}

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def ack(self, request, pk=None):
        """Acknowledge the alert (once; a second ack changes nothing)."""
        alert = self.get_object()
        state.acknowledge(alert, request.user)
        return Response(AlertSerializer(alert, context=self.get_serializer_context()).data)


class SilenceViewSet(TeamScopedViewSet):
    serializer_class = SilenceSerializer
    queryset = Silence.objects.select_related("rule", "host")
    filterset_fields = ["rule", "host"]
    search_fields = ["comment", "target_name"]
    ordering_fields = ["starts_at", "ends_at"]
    action_roles = {"create": Action.OPERATE, "update": Action.OPERATE, "partial_update": Action.OPERATE,
                    "destroy": Action.OPERATE}

    def perform_create(self, serializer):
        serializer.save(team=self.team, created_by=self.request.user)
