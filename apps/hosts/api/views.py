from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import TeamScopedViewSet, accepted
from apps.core.roles import Action

from .. import services
from ..models import DockerHost
from .serializers import DockerHostSerializer

TestResultSerializer = inline_serializer(
    "HostTestResult",
    {
        "ok": serializers.BooleanField(),
        "status": serializers.CharField(),
        "error": serializers.CharField(),
        "permanent": serializers.BooleanField(),
        "elapsed": serializers.FloatField(),
        "info": serializers.DictField(),
    },
)


class DockerHostViewSet(TeamScopedViewSet):
    serializer_class = DockerHostSerializer
    queryset = DockerHost.objects.all()
    filterset_fields = ["status"]
    search_fields = ["name", "url", "description"]
    ordering_fields = ["name", "status", "created_at"]
    action_roles = {"test": Action.OPERATE, "sync": Action.OPERATE}

    @extend_schema(request=None, responses=TestResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Connect now (short timeout) and return what the engine said, or the clear error."""
        host = self.get_object()
        return Response(services.request_test_connection(request.user, host).as_dict())

    @extend_schema(request=None, responses={202: inline_serializer("OperationAccepted", {"operation": serializers.IntegerField(), "status": serializers.CharField(), "url": serializers.URLField()})})
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Refresh the host's engine facts as a background Operation (202)."""
        host = self.get_object()
        return accepted(services.request_sync(request.user, host), request)
