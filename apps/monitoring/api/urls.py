from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("metrics", views.MetricsViewSet, basename="metrics")

urlpatterns = router.urls
