"""Containers API routes. Viewsets come from api/viewsets.py (the composition point), never
from the slices' modules directly. Slices with viewsets of their own (registries, ...) append
a `router.register(...)` line in their section below."""

from rest_framework.routers import SimpleRouter

from . import viewsets

router = SimpleRouter()

# --- mirror (read; other slices' actions arrive through viewsets.py) --------------------------
router.register("containers", viewsets.ContainerViewSet, basename="container")
router.register("images", viewsets.ImageViewSet, basename="image")
router.register("volumes", viewsets.VolumeViewSet, basename="volume")
router.register("networks", viewsets.NetworkViewSet, basename="network")
router.register("docker-events", viewsets.DockerEventViewSet, basename="docker-event")

# --- lifecycle ---------------------------------------------------------------------------------

# --- resources (e.g. registries/) ------------------------------------------------------------
from .resources import RegistryCredentialViewSet  # noqa: E402

router.register("registries", RegistryCredentialViewSet, basename="registry")

# --- streams -----------------------------------------------------------------------------------

urlpatterns = router.urls
