from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("alert-rules", views.AlertRuleViewSet, basename="alertrule")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("silences", views.SilenceViewSet, basename="silence")

urlpatterns = router.urls
