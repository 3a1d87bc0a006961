from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("hosts", views.DockerHostViewSet, basename="host")

urlpatterns = router.urls
