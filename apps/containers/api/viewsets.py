"""MINIMAL composition (streams branch only): the mirror branch owns this file. On merge,
take the mirror branch's version; it composes ContainerStreamsMixin from api/streams.py."""

from rest_framework import serializers

from apps.core.api import TeamScopedReadOnlyViewSet

from ..models import Container
from .streams import ContainerStreamsMixin


class _ContainerBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Container
        fields = ["id", "name", "docker_id", "state"]


class ContainerViewSet(ContainerStreamsMixin, TeamScopedReadOnlyViewSet):
    queryset = Container.objects.all()
    serializer_class = _ContainerBriefSerializer
