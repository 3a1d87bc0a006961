"""Every WebSocket route. The isolation test walks these consumers."""

from django.urls import path

from apps.activity import consumers as activity_consumers
from apps.ai import consumers as ai_consumers
from apps.containers import consumers as containers_consumers
from apps.monitoring import consumers as monitoring_consumers

websocket_urlpatterns = [
    path("ws/events/", activity_consumers.TeamEventsConsumer.as_asgi(), name="ws-events"),
    path("ws/operations/<int:pk>/", activity_consumers.OperationConsumer.as_asgi(), name="ws-operation"),
    *containers_consumers.websocket_urlpatterns,
    path("ws/metrics/container/<int:pk>/", monitoring_consumers.ContainerMetricsConsumer.as_asgi(), name="ws-metrics-container"),
    path("ws/metrics/host/<int:pk>/", monitoring_consumers.HostMetricsConsumer.as_asgi(), name="ws-metrics-host"),
    *ai_consumers.websocket_urlpatterns,
]
