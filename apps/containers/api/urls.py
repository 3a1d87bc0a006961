"""MINIMAL routes (streams branch only): take the mirror branch's version on merge."""

from rest_framework.routers import SimpleRouter

from . import viewsets

router = SimpleRouter()
router.register("containers", viewsets.ContainerViewSet, basename="container")

urlpatterns = router.urls
