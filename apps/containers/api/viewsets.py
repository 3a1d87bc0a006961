"""The containers API's viewsets. Minimal until the mirror slice's read API merges: a
read-only ContainerViewSet over present containers, with the lifecycle actions composed in."""

from rest_framework import serializers

from apps.core.api import TeamScopedReadOnlyViewSet

from ..models import Container
from .lifecycle import ContainerLifecycleMixin


class ContainerBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Container
        fields = ["id", "team", "host", "docker_id", "name", "image", "state", "status", "health", "labels"]


class ContainerViewSet(ContainerLifecycleMixin, TeamScopedReadOnlyViewSet):
    serializer_class = ContainerBriefSerializer
    queryset = Container.objects.present()
    filterset_fields = ["host", "state"]
    search_fields = ["name", "image"]
    ordering_fields = ["name", "state"]
