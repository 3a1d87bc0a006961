"""Logs and live stats of a container in the API (composed into ContainerViewSet by
api/viewsets.py). Bounded reads with a short timeout; readers (viewers and up) may use both."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.roles import Action
from apps.engine.errors import EngineError, EngineObjectNotFound

from .. import logs, stats

LogsSerializer = inline_serializer(
    "ContainerLogs",
    {
        "container": serializers.IntegerField(),
        "tty": serializers.BooleanField(),
        "truncated": serializers.BooleanField(),
        "notes": serializers.ListField(child=serializers.CharField()),
        "lines": inline_serializer(
            "ContainerLogLine",
            {"ts": serializers.CharField(), "stream": serializers.CharField(), "text": serializers.CharField()},
            many=True,
        ),
    },
)
StatsSerializer = inline_serializer(
    "ContainerStats",
    {
        "container": serializers.IntegerField(),
        "cpu_percent": serializers.FloatField(allow_null=True),
        "memory_used": serializers.IntegerField(),
        "memory_limit": serializers.IntegerField(),
        "memory_percent": serializers.FloatField(allow_null=True),
        "net_rx": serializers.IntegerField(),
        "net_tx": serializers.IntegerField(),
        "net_rx_rate": serializers.FloatField(allow_null=True),
        "net_tx_rate": serializers.FloatField(allow_null=True),
        "block_read": serializers.IntegerField(),
        "block_write": serializers.IntegerField(),
        "pids": serializers.IntegerField(allow_null=True),
        "online_cpus": serializers.IntegerField(),
    },
)
LOG_PARAMETERS = [
    OpenApiParameter("tail", OpenApiTypes.STR, description="Last N lines (default 200, at most 10000) or 'all'"),
    OpenApiParameter("since", OpenApiTypes.STR, description="10m, 2h, 1d, an ISO date-time or unix seconds"),
    OpenApiParameter("until", OpenApiTypes.STR, description="As since"),
    OpenApiParameter("q", OpenApiTypes.STR, description="Case-insensitive text to search for"),
    OpenApiParameter("regex", OpenApiTypes.BOOL, description="Treat q as a regular expression (at most 200 characters)"),
    OpenApiParameter("stream", OpenApiTypes.STR, enum=["all", "stdout", "stderr"]),
]


class EngineUnavailable(exceptions.APIException):
    status_code = 503
    default_code = "engine_unavailable"
    default_detail = "The container's engine did not answer."


class ContainerStreamsMixin:
    action_roles = {"logs": Action.VIEW, "stats": Action.VIEW}

    def stream_target(self):
        """The container, without the list's filters (its `q` is the log search here)."""
        container = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, container)
        return container

    @extend_schema(parameters=LOG_PARAMETERS, responses=LogsSerializer, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def logs(self, request, pk=None):
        """The container's log: the last lines matching the filters (ANSI codes removed)."""
        container = self.stream_target()
        form = logs.LogFilterForm(request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError({k: [e["message"] for e in v] for k, v in form.errors.get_json_data().items()})
        try:
            result = logs.read_logs(container, form.query())
        except EngineObjectNotFound as exc:
            raise exceptions.NotFound(str(exc)) from None
        except EngineError as exc:
            raise EngineUnavailable(str(exc)) from None
        return Response({
            "container": container.pk, "tty": result.tty, "truncated": result.truncated, "notes": result.notes,
            "lines": [line.as_dict() for line in result.lines],
        })

    @extend_schema(responses=StatsSerializer, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def stats(self, request, pk=None):
        """Live CPU %, memory (as the docker CLI counts it), network and block I/O, PIDs."""
        container = self.stream_target()
        try:
            snapshot = stats.read_stats(container)
        except EngineObjectNotFound as exc:
            raise exceptions.NotFound(str(exc)) from None
        except EngineError as exc:
            raise EngineUnavailable(str(exc)) from None
        return Response({"container": container.pk, **snapshot.as_dict()})
