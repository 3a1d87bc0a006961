"""Every app's API under /api/v1/ (namespace "api"). The isolation test walks these routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.activity.api.urls")),
    path("", include("apps.hosts.api.urls")),
    path("", include("apps.scans.api.urls")),
    path("", include("apps.containers.api.urls")),
    path("", include("apps.compose.api.urls")),
    path("", include("apps.monitoring.api.urls")),
    path("", include("apps.alerts.api.urls")),
    path("", include("apps.backups.api.urls")),
    path("", include("apps.updates.api.urls")),
    path("", include("apps.ai.api.urls")),
    path("", include("apps.notifications.api.urls")),
]
