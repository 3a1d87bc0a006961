from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core import views as core_views
from apps.monitoring import views as monitoring_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", monitoring_views.prometheus, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("dockerforge.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/", include("apps.accounts.urls")),
    path("activity/", include("apps.activity.urls")),
    path("hosts/", include("apps.hosts.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("security/", include("apps.scans.urls")),
    path("", include("apps.containers.urls")),
    path("stacks/", include("apps.compose.urls")),
    path("backups/", include("apps.backups.urls")),
    path("updates/", include("apps.updates.urls")),
    path("ai/", include("apps.ai.urls")),
    path("alerts/", include("apps.alerts.urls")),
    path("", include("apps.web.urls")),
]

handler404 = "apps.web.views.not_found"
handler500 = "apps.web.views.server_error"
