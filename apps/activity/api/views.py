from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import TeamScopedReadOnlyViewSet
from apps.core.roles import Action

from .. import operations
from ..models import AuditEvent, Event, Operation
from .serializers import AuditEventSerializer, EventSerializer, OperationSerializer


class EventViewSet(TeamScopedReadOnlyViewSet):
    """The activity feed: events of the user's teams, newest first."""

    serializer_class = EventSerializer
    queryset = Event.objects.all()
    filterset_fields = {"kind": ["exact", "startswith"], "severity": ["exact"], "host_id": ["exact"], "occurred_at": ["gte", "lte"]}
    search_fields = ["summary", "target_name", "kind"]


class AuditEventViewSet(TeamScopedReadOnlyViewSet):
    """Who changed what. Readable by every member of the team (DESIGN.md roles)."""

    serializer_class = AuditEventSerializer
    queryset = AuditEvent.objects.all()
    filterset_fields = {"action": ["exact"], "object_type": ["exact"], "actor": ["exact"], "created_at": ["gte", "lte"]}
    search_fields = ["object_repr", "actor_name", "name"]


class OperationViewSet(TeamScopedReadOnlyViewSet):
    """Background jobs; operators and admins may cancel one."""

    serializer_class = OperationSerializer
    queryset = Operation.objects.select_related("created_by")
    filterset_fields = {"status": ["exact"], "kind": ["exact", "startswith"], "target_kind": ["exact"], "target_id": ["exact"]}
    action_roles = {"cancel": Action.OPERATE}

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        op = self.get_object()
        operations.request_cancel(op)
        op.refresh_from_db()
        return Response(self.get_serializer(op).data)
