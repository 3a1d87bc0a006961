"""Chart panels on the container, host and dashboard pages (core.registries.panels)."""

from django.template.loader import render_to_string
from django.urls import reverse

from apps.containers.models import Container
from apps.core.registries import Panel, panels

from .queries import latest_by_container

RANGES = [("15m", "15 min"), ("1h", "1 h"), ("6h", "6 h"), ("24h", "24 h"), ("7d", "7 d"), ("30d", "30 d")]
CONTAINER_CHARTS = [
    ("cpu", "CPU (% of one core)", "percent", ["cpu"]),
    ("mem", "Memory", "bytes", ["mem", "mem_limit"]),
    ("net", "Network", "bytes/s", ["net_rx", "net_tx"]),
    ("blk", "Block I/O", "bytes/s", ["blk_read", "blk_write"]),
]
HOST_CHARTS = [*CONTAINER_CHARTS, ("running", "Running containers", "count", ["running"])]
TOP_N = 5


def _charts_html(request, kind: str, obj, charts) -> str:
    context = {
        "kind": kind,
        "obj": obj,
        "charts": charts,
        "ranges": RANGES,
        "api_url": reverse("api:metrics-list"),
        "ws_path": f"/ws/metrics/{kind}/{obj.pk}/",
    }
    return render_to_string("monitoring/_charts.html", context, request=request)


def container_charts(request, container):
    if container is None:
        return None
    return _charts_html(request, "container", container, CONTAINER_CHARTS)


def host_charts(request, host):
    if host is None:
        return None
    return _charts_html(request, "host", host, HOST_CHARTS)


def top_containers(request, _obj=None):
    """The current team's busiest running containers by CPU and by memory."""
    team = getattr(request, "team", None)
    if team is None:
        return None
    containers = {c.pk: c for c in Container.objects.for_user(request.user).filter(team=team).present().select_related("host")}
    latest = latest_by_container(list(containers))
    rows = [(containers[pk], s) for pk, s in latest.items()]
    by_cpu = sorted((r for r in rows if r[1].cpu is not None), key=lambda r: r[1].cpu, reverse=True)[:TOP_N]
    by_mem = sorted((r for r in rows if r[1].mem is not None), key=lambda r: r[1].mem, reverse=True)[:TOP_N]
    return render_to_string("monitoring/_top.html", {"by_cpu": by_cpu, "by_mem": by_mem}, request=request)


def register_panels() -> None:
    panels.add("container_detail", Panel(20, "metrics", "Metrics", container_charts))
    panels.add("host_detail", Panel(20, "metrics", "Metrics", host_charts))
    panels.add("dashboard", Panel(20, "top_containers", "Top containers", top_containers))
