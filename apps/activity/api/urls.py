from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("activity", views.EventViewSet, basename="event")
router.register("audit", views.AuditEventViewSet, basename="auditevent")
router.register("operations", views.OperationViewSet, basename="operation")

urlpatterns = router.urls
