from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("notification-channels", views.ChannelViewSet, basename="notificationchannel")
router.register("routes", views.RouteViewSet, basename="route")
router.register("deliveries", views.DeliveryViewSet, basename="delivery")

urlpatterns = router.urls
