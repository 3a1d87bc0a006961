from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("update-checks", views.UpdateCheckViewSet, basename="update-check")
router.register("updates", views.UpdateRunViewSet, basename="update")
router.register("update-policies", views.UpdatePolicyViewSet, basename="update-policy")
router.register("update-windows", views.UpdateWindowViewSet, basename="update-window")

urlpatterns = [path("version/", views.VersionView.as_view(), name="version"), *router.urls]
