"""MINIMAL composition (streams branch only): the mirror branch owns this file. On merge,
take the mirror branch's version; it composes ContainerStreamsMixin from api/streams.py."""

from apps.core.api import TeamScopedReadOnlyViewSet
from apps.core.roles import Action

from ..models import Container
from .streams import ContainerStreamsMixin


class _ContainerRead:
    queryset = Container.objects.all()

    def get_serializer_class(self):
        from rest_framework import serializers

        class _S(serializers.ModelSerializer):
            class Meta:
                model = Container
                fields = ["id", "name", "docker_id", "state"]

        return _S


class ContainerViewSet(ContainerStreamsMixin, _ContainerRead, TeamScopedReadOnlyViewSet):
    action_roles = {**ContainerStreamsMixin.action_roles, "list": Action.VIEW}
