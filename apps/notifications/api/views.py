from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import TeamScopedReadOnlyViewSet, TeamScopedViewSet
from apps.core.roles import Action

from .. import services
from ..models import Channel, Delivery, Route
from .serializers import ChannelSerializer, DeliverySerializer, RouteSerializer


class ChannelViewSet(TeamScopedViewSet):
    serializer_class = ChannelSerializer
    queryset = Channel.objects.all()
    filterset_fields = ["kind", "enabled"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "last_error_at"]
    action_roles = {"test": Action.OPERATE}

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Send a test message now (one attempt, no retries) and return the delivery."""
        channel = self.get_object()
        delivery = services.request_send_test(request.user, channel)
        return Response(DeliverySerializer(delivery, context=self.get_serializer_context()).data)


class RouteViewSet(TeamScopedViewSet):
    serializer_class = RouteSerializer
    queryset = Route.objects.prefetch_related("channels")
    filterset_fields = ["enabled"]
    search_fields = ["name"]
    ordering_fields = ["order", "name", "created_at"]


class DeliveryViewSet(TeamScopedReadOnlyViewSet):
    serializer_class = DeliverySerializer
    queryset = Delivery.objects.select_related("channel").prefetch_related("attempt_rows")
    filterset_fields = ["status", "channel", "is_test"]
    search_fields = ["subject"]
    ordering_fields = ["created_at", "status"]
