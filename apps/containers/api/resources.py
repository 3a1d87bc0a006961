"""API actions on images, volumes and networks (mixins composed in api/viewsets.py) and the
registry credentials viewset.

Changes return 202 with the Operation. Collection actions (pull, build, prune, create) name
a host in the body: another team's host answers 404, a role that may not act 403, both
before the rest of the body is validated. Per-object actions get the same from the base's
object permissions (`action_roles`).
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.core.api import TeamScopedViewSet, accepted, user_may
from apps.core.roles import Action
from apps.engine.errors import EngineError
from apps.hosts.models import DockerHost

from .. import images, networks, volumes
from ..forms_resources import save_context, validate_context_archive
from ..models import RegistryCredential
from ..registries import validate_registry

Accepted = inline_serializer("ResourceOperationAccepted", {"operation": serializers.IntegerField(), "status": serializers.CharField(), "url": serializers.URLField()})


class EngineUnavailable(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "engine_error"
    default_detail = "The engine could not answer."


def engine_call(fn, *args, **kwargs):
    """Run an in-request engine read; engine failures answer 502 with the engine's message."""
    try:
        return fn(*args, **kwargs)
    except EngineError as exc:
        raise EngineUnavailable(str(exc)) from None


class HostActionsMixin:
    """Collection actions that act on a host named in the body."""

    def host_from_body(self, request, action: str = Action.OPERATE) -> DockerHost:
        raw = request.data.get("host") if hasattr(request.data, "get") else None
        if raw in (None, ""):
            raise exceptions.ValidationError({"host": ["This field is required."]})
        if not str(raw).isdigit():
            raise exceptions.ValidationError({"host": ["must be a host id"]})
        host = DockerHost.objects.for_user(request.user, Action.VIEW).filter(pk=int(raw)).first()
        if host is None:
            raise Http404("No such host.")
        if not user_may(request.user, host.team_id, action):
            raise exceptions.PermissionDenied("Your role in this team does not allow this action.")
        return host

    def body(self, serializer_class, request) -> dict:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# --- images -----------------------------------------------------------------------------------

class PullBody(serializers.Serializer):
    host = serializers.IntegerField()
    reference = serializers.CharField(max_length=500)


class BuildBody(serializers.Serializer):
    host = serializers.IntegerField()
    tag = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    dockerfile_text = serializers.CharField(required=False, allow_blank=True, default="", max_length=64 * 1024)
    context = serializers.FileField(required=False, help_text="A .tar or .tar.gz build context (multipart)")
    dockerfile = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    buildargs = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)


class TagBody(serializers.Serializer):
    repository = serializers.CharField(max_length=255)
    tag = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")


class ForceBody(serializers.Serializer):
    force = serializers.BooleanField(required=False, default=False)


class PruneImagesBody(serializers.Serializer):
    host = serializers.IntegerField()
    all = serializers.BooleanField(required=False, default=False, help_text="All unused images, not only dangling ones")


class HostBody(serializers.Serializer):
    host = serializers.IntegerField()


HistoryLayer = inline_serializer("ImageHistoryLayer", many=True, fields={
    "id": serializers.CharField(), "created": serializers.IntegerField(), "created_by": serializers.CharField(),
    "size": serializers.IntegerField(), "tags": serializers.ListField(child=serializers.CharField()), "comment": serializers.CharField(),
})


class ImageActionsMixin(HostActionsMixin):
    action_roles = {"pull": Action.OPERATE, "build": Action.OPERATE, "prune": Action.OPERATE, "tag": Action.OPERATE,
                    "remove": Action.OPERATE, "history": Action.VIEW}

    @extend_schema(request=PullBody, responses={202: Accepted})
    @action(detail=False, methods=["post"])
    def pull(self, request):
        """Pull an image on a host (team credentials for its registry are used)."""
        host = self.host_from_body(request)
        data = self.body(PullBody, request)
        return accepted(images.request_pull(request.user, host, data["reference"]), request)

    @extend_schema(request={"multipart/form-data": BuildBody, "application/json": BuildBody}, responses={202: Accepted})
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def build(self, request):
        """Build from `dockerfile_text` or an uploaded `context` archive (multipart)."""
        host = self.host_from_body(request)
        data = self.body(BuildBody, request)
        context_file = ""
        if data.get("context"):
            validate_context_archive(data["context"], field="context")
            context_file = save_context(data["context"])
        try:
            op = images.request_build(request.user, host, tag=data["tag"], buildargs=data["buildargs"], dockerfile=data["dockerfile"],
                                      dockerfile_text=data["dockerfile_text"], context_file=context_file)
        except Exception:
            if context_file:
                (images.build_context_dir() / context_file).unlink(missing_ok=True)
            raise
        return accepted(op, request)

    @extend_schema(request=PruneImagesBody, responses={202: Accepted})
    @action(detail=False, methods=["post"])
    def prune(self, request):
        """Remove dangling (or, with `all`, every unused) image on a host."""
        host = self.host_from_body(request)
        data = self.body(PruneImagesBody, request)
        return accepted(images.request_prune(request.user, host, all_unused=data["all"]), request)

    @extend_schema(request=TagBody, responses={202: Accepted})
    @action(detail=True, methods=["post"])
    def tag(self, request, pk=None):
        image = self.get_object()
        data = self.body(TagBody, request)
        return accepted(images.request_tag(request.user, image, data["repository"], data["tag"]), request)

    @extend_schema(request=ForceBody, responses={202: Accepted})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        image = self.get_object()
        data = self.body(ForceBody, request)
        return accepted(images.request_remove(request.user, image, force=data["force"]), request)

    @extend_schema(request=None, responses=HistoryLayer)
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """The image's layers, read from the engine now."""
        image = self.get_object()
        return Response(engine_call(images.image_history, image))


ImageResourceMixin = ImageActionsMixin  # the name api/viewsets.py composes


# --- volumes ----------------------------------------------------------------------------------

class VolumeCreateBody(serializers.Serializer):
    host = serializers.IntegerField()
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    driver = serializers.CharField(max_length=100, required=False, default="local")
    driver_opts = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)


BrowseEntry = inline_serializer("VolumeEntry", many=True, fields={
    "name": serializers.CharField(), "type": serializers.CharField(), "size": serializers.IntegerField(),
    "mtime": serializers.DateTimeField(), "mode": serializers.CharField(),
})
PATH_PARAM = OpenApiParameter("path", str, description="A path inside the volume (default: its root)")


class VolumeActionsMixin(HostActionsMixin):
    action_roles = {"create": Action.OPERATE, "remove": Action.OPERATE, "prune": Action.OPERATE, "browse": Action.VIEW, "download": Action.VIEW}

    @extend_schema(request=VolumeCreateBody, responses={202: Accepted})
    def create(self, request, *args, **kwargs):
        """Create a volume on a host (202 with the Operation)."""
        host = self.host_from_body(request)
        data = self.body(VolumeCreateBody, request)
        return accepted(volumes.request_create(request.user, host, name=data["name"], driver=data["driver"], labels=data["labels"],
                                               driver_opts=data["driver_opts"]), request)

    @extend_schema(request=ForceBody, responses={202: Accepted})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        volume = self.get_object()
        data = self.body(ForceBody, request)
        return accepted(volumes.request_remove(request.user, volume, force=data["force"]), request)

    @extend_schema(request=HostBody, responses={202: Accepted})
    @action(detail=False, methods=["post"])
    def prune(self, request):
        host = self.host_from_body(request)
        return accepted(volumes.request_prune(request.user, host), request)

    @extend_schema(parameters=[PATH_PARAM], responses=inline_serializer("VolumeListing", {
        "path": serializers.CharField(), "truncated": serializers.BooleanField(), "entries": BrowseEntry}))
    @action(detail=True, methods=["get"])
    def browse(self, request, pk=None):
        """List one directory of the volume through a short-lived helper container."""
        volume = self.get_object()
        listing = engine_call(volumes.list_directory, request.user, volume, request.query_params.get("path", ""))
        entries = [{"name": e.name, "type": e.type, "size": e.size, "mtime": e.mtime, "mode": e.mode} for e in listing.entries]
        return Response({"path": listing.path, "truncated": listing.truncated, "entries": entries})

    @extend_schema(parameters=[PATH_PARAM], responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """One file of the volume (size-capped)."""
        volume = self.get_object()
        name, content = engine_call(volumes.read_file, request.user, volume, request.query_params.get("path", ""))
        return file_response(name, content)


def file_response(name: str, content: bytes) -> HttpResponse:
    from django.utils.http import content_disposition_header

    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


VolumeResourceMixin = VolumeActionsMixin


# --- networks ---------------------------------------------------------------------------------

class NetworkCreateBody(serializers.Serializer):
    host = serializers.IntegerField()
    name = serializers.CharField(max_length=255)
    driver = serializers.CharField(max_length=100, required=False, default="bridge")
    subnet = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    gateway = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    internal = serializers.BooleanField(required=False, default=False)
    attachable = serializers.BooleanField(required=False, default=False)
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)


class ConnectBody(serializers.Serializer):
    container = serializers.CharField(max_length=255, help_text="Container id or name on the network's host")
    aliases = serializers.ListField(child=serializers.CharField(max_length=63), required=False, default=list)


class DisconnectBody(serializers.Serializer):
    container = serializers.CharField(max_length=255)
    force = serializers.BooleanField(required=False, default=False)


class NetworkActionsMixin(HostActionsMixin):
    action_roles = {"create": Action.OPERATE, "connect": Action.OPERATE, "disconnect": Action.OPERATE, "remove": Action.OPERATE,
                    "prune": Action.OPERATE}

    @extend_schema(request=NetworkCreateBody, responses={202: Accepted})
    def create(self, request, *args, **kwargs):
        host = self.host_from_body(request)
        data = self.body(NetworkCreateBody, request)
        fields = {k: v for k, v in data.items() if k != "host"}  # the authorized host object is used
        return accepted(networks.request_create(request.user, host, **fields), request)

    @extend_schema(request=ConnectBody, responses={202: Accepted})
    @action(detail=True, methods=["post"])
    def connect(self, request, pk=None):
        network = self.get_object()
        data = self.body(ConnectBody, request)
        return accepted(networks.request_connect(request.user, network, data["container"], data["aliases"]), request)

    @extend_schema(request=DisconnectBody, responses={202: Accepted})
    @action(detail=True, methods=["post"])
    def disconnect(self, request, pk=None):
        network = self.get_object()
        data = self.body(DisconnectBody, request)
        return accepted(networks.request_disconnect(request.user, network, data["container"], force=data["force"]), request)

    @extend_schema(request=None, responses={202: Accepted})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        network = self.get_object()
        return accepted(networks.request_remove(request.user, network), request)

    @extend_schema(request=HostBody, responses={202: Accepted})
    @action(detail=False, methods=["post"])
    def prune(self, request):
        host = self.host_from_body(request)
        return accepted(networks.request_prune(request.user, host), request)


NetworkResourceMixin = NetworkActionsMixin


# --- registry credentials ---------------------------------------------------------------------

class RegistryCredentialSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"}, trim_whitespace=False,
                                     help_text="Write-only: never returned. Omit on update to keep the stored one.")
    has_password = serializers.SerializerMethodField()

    class Meta:
        model = RegistryCredential
        fields = ["id", "team", "registry", "username", "password", "has_password", "created_at", "updated_at"]
        read_only_fields = ["id", "team", "has_password", "created_at", "updated_at"]

    def get_has_password(self, obj) -> bool:
        return bool(obj.password)

    def validate_registry(self, value):
        from django.core.exceptions import ValidationError

        try:
            address = validate_registry(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        team = self.context.get("team") or getattr(self.instance, "team", None)
        clash = RegistryCredential.objects.filter(team=team, registry=address)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("This team already has a credential for this registry.")
        return address

    def validate(self, attrs):
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": ["A password or access token is required."]})
        return attrs


class RegistryCredentialViewSet(TeamScopedViewSet):
    """Per-team logins for private registries, used automatically when pulling from them.
    Members read the registry and username; team admins create, change and delete."""

    serializer_class = RegistryCredentialSerializer
    queryset = RegistryCredential.objects.all()
    search_fields = ["registry", "username"]
    ordering_fields = ["registry", "created_at"]
