"""Health endpoints: /healthz says the process serves; /readyz checks its dependencies."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from .degraded import degraded_components, redis_ok


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["redis"] = {True: "ok", False: "error", None: "not configured"}[redis_ok()]
    ready = checks["database"] == "ok" and checks["redis"] != "error"
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks, "degraded": degraded_components()},
        status=200 if ready else 503,
    )
