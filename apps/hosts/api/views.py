from apps.core.api import TeamScopedViewSet

from ..models import DockerHost
from .serializers import DockerHostSerializer


class DockerHostViewSet(TeamScopedViewSet):
    serializer_class = DockerHostSerializer
    queryset = DockerHost.objects.all()
    filterset_fields = ["status"]
    search_fields = ["name", "url", "description"]
    ordering_fields = ["name", "status", "created_at"]
