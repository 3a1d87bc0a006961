from rest_framework.routers import SimpleRouter

from .viewsets import ContainerViewSet

router = SimpleRouter()
router.register("containers", ContainerViewSet, basename="container")

urlpatterns = router.urls
