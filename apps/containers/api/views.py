"""Read-only API of the mirror, as mixins that api/viewsets.py composes with the other
slices' action mixins (lifecycle, resources, streams). See viewsets.py for the contract."""

from django_filters.rest_framework import DjangoFilterBackend

from apps.activity.models import Event
from apps.core.api import TeamScopedReadOnlyViewSet

from ..filters import ContainerFilter, ImageFilter, NetworkFilter, VolumeFilter
from ..models import Container, Image, Network, Volume
from . import serializers

ENGINE_EVENT_PREFIXES = ("container.", "image.", "volume.", "network.")


class MirrorReadMixin:
    """List and retrieve on one FilterSet (the pages' own), the host fetched in the same query."""

    # The FilterSet carries search and ordering too (`q`, `ordering`): one backend, one contract.
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self):
        return super().get_queryset().select_related("host")


class ContainerReadMixin(MirrorReadMixin):
    """Containers of every host of the user's teams (`?team=` narrows); removed ones greyed in
    pages are here too, with `removed_at` set."""

    queryset = Container.objects.all()
    serializer_class = serializers.ContainerSerializer
    filterset_class = ContainerFilter

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.ContainerDetailSerializer
        return super().get_serializer_class()

    def get_queryset(self):
        qs = super().get_queryset()
        # Lists never carry the full inspect (large); retrieve does.
        return qs.defer("inspect") if self.action == "list" else qs


class ImageReadMixin(MirrorReadMixin):
    """Images of every host of the user's teams."""

    queryset = Image.objects.defer("inspect")
    serializer_class = serializers.ImageSerializer
    filterset_class = ImageFilter


class VolumeReadMixin(MirrorReadMixin):
    """Volumes of every host of the user's teams."""

    queryset = Volume.objects.all()
    serializer_class = serializers.VolumeSerializer
    filterset_class = VolumeFilter


class NetworkReadMixin(MirrorReadMixin):
    """Networks of every host of the user's teams."""

    queryset = Network.objects.all()
    serializer_class = serializers.NetworkSerializer
    filterset_class = NetworkFilter


class DockerEventViewSet(TeamScopedReadOnlyViewSet):
    """Recent engine events the listener recorded (kinds container.*, image.*, volume.*, network.*)."""

    serializer_class = serializers.DockerEventSerializer
    queryset = Event.objects.all()
    filterset_fields = {"kind": ["exact", "startswith"], "host_id": ["exact"], "target_id": ["exact"],
                        "occurred_at": ["gte", "lte"]}
    search_fields = ["summary", "target_name", "kind"]

    def get_queryset(self):
        from django.db.models import Q

        cond = Q()
        for prefix in ENGINE_EVENT_PREFIXES:
            cond |= Q(kind__startswith=prefix)
        return super().get_queryset().filter(cond)
