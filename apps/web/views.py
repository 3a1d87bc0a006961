from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render

from apps.activity.models import Event, Operation
from apps.core.htmx import render_page
from apps.core.registries import panels
from apps.hosts.models import DockerHost

DASHBOARD_EVENTS = 10
DASHBOARD_OPERATIONS = 10


def team_rows(request, queryset):
    """The rows of the current team the user may see (none without a team)."""
    qs = queryset.for_user(request.user)
    return qs.filter(team=request.team) if request.team else qs.none()


def host_counts(hosts) -> dict[str, int]:
    counts = {status: 0 for status in DockerHost.Status.values}
    for row in hosts.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


@login_required
def dashboard(request):
    hosts = team_rows(request, DockerHost.objects.all())
    context = {
        "nav": "dashboard",
        "hosts": hosts,
        "counts": host_counts(hosts),
        "events": team_rows(request, Event.objects.all())[:DASHBOARD_EVENTS],
        "running_operations": team_rows(request, Operation.objects.select_related("created_by"))
        .filter(status__in=(Operation.Status.PENDING, Operation.Status.RUNNING))[:DASHBOARD_OPERATIONS],
        "panels": panels.for_page("dashboard"),
    }
    return render_page(request, "web/dashboard.html", context, partial="live")


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"error": {"code": "not_found", "message": "Not found.", "details": {}}}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse(
            {"error": {"code": "server_error", "message": "Internal error; it has been logged.", "details": {}}},
            status=500,
        )
    return render(request, "500.html", status=500)
