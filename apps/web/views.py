from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render

from apps.core.htmx import render_page
from apps.core.registries import panels
from apps.hosts.models import DockerHost


@login_required
def dashboard(request):
    team = request.team
    hosts = DockerHost.objects.for_user(request.user).filter(team=team) if team else DockerHost.objects.none()
    context = {
        "nav": "dashboard",
        "hosts": hosts,
        "counts": {s: sum(1 for h in hosts if h.status == s) for s in DockerHost.Status.values},
        "panels": [p for p in panels.for_page("dashboard")],
    }
    return render_page(request, "web/dashboard.html", context, partial="hosts")


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
