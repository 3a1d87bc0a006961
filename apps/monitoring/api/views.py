from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from apps.containers.models import Container
from apps.core.api import TeamScopedGenericViewSet
from apps.core.roles import Action
from apps.hosts.models import DockerHost

from .. import queries
from ..metrics import UNITS
from .serializers import ContainerLatestSerializer, SeriesQuerySerializer


class MetricsViewSet(TeamScopedGenericViewSet):
    """Metric history. Without `container`/`host`: every visible container with its latest
    values (paginated). With one of them: its series, from the tier the range needs."""

    queryset = Container.objects.all()
    serializer_class = ContainerLatestSerializer
    search_fields = ["name"]
    ordering_fields = ["name"]
    filterset_fields = ["state"]

    @extend_schema(
        parameters=[
            OpenApiParameter("container", int, description="a container id: its series"),
            OpenApiParameter("host", int, description="a host id: its totals' series"),
            OpenApiParameter("metric", str, description="comma-separated metric names (see apps/monitoring/metrics.py)"),
            OpenApiParameter("since", str, description="15m, 24h, 30d or an ISO 8601 time"),
            OpenApiParameter("until", str, description="an ISO 8601 time (default now)"),
            OpenApiParameter("step", str, description="bucket width: seconds or 5m / 1h"),
        ]
    )
    def list(self, request, *args, **kwargs):
        params = request.query_params
        if not params.get("container") and not params.get("host"):
            return self._latest_list()
        query = SeriesQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        return Response(self._series(query.validated_data))

    def _latest_list(self):
        qs = self.filter_queryset(self.get_queryset().present().select_related("host"))
        page = self.paginate_queryset(qs)
        latest = queries.latest_by_container([c.pk for c in page])
        data = ContainerLatestSerializer(page, many=True, context={"latest": latest}).data
        return self.get_paginated_response(data)

    def _target(self, data):
        if data.get("container"):
            target = self.get_queryset().filter(pk=data["container"]).first()
            kind = "container"
        else:
            target = DockerHost.objects.for_user(self.request.user, Action.VIEW).filter(pk=data["host"]).first()
            kind = "host"
        if target is None:
            raise Http404(f"No such {kind}.")
        return kind, target

    def _series(self, data) -> dict:
        kind, target = self._target(data)
        start, end, step = data["since"], data["until"], data.get("step")
        info = queries.series_info(start, end, step)
        series = {
            metric: [[ts.timestamp(), avg, lo, hi] for ts, avg, lo, hi in queries.series(target, metric, start, end, step)]
            for metric in data["metric"]
        }
        return {
            "target": {"kind": kind, "id": target.pk, "name": target.name},
            "since": start.isoformat(),
            "until": end.isoformat(),
            **info,
            "columns": ["ts", "avg", "min", "max"],
            "units": {m: UNITS[m] for m in data["metric"]},
            "series": series,
        }
