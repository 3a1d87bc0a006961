"""backups/, backups/{id}/verify/, restores/, backup-schedules/ (DESIGN.md REST contract)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.core.api import TeamScopedReadOnlyViewSet, TeamScopedViewSet, accepted
from apps.core.roles import Action
from apps.hosts.models import DockerHost

from .. import portable, schedules, services
from ..models import Backup, BackupSchedule, Restore, StorageTarget
from ..storage import storage_of
from .serializers import (
    BackupRequestSerializer,
    BackupScheduleSerializer,
    BackupSerializer,
    ImportRequestSerializer,
    RestoreRequestSerializer,
    RestoreSerializer,
    StorageTargetSerializer,
    VerifyRequestSerializer,
)


def _service(fn):
    """Service errors as API errors: field errors 400, role 403."""
    try:
        return fn()
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc)) from None


def _visible(model, user, pk, what: str):
    obj = model.objects.for_user(user, Action.VIEW).filter(pk=pk).first()
    if obj is None:
        raise Http404(f"No such {what}.")
    return obj


class BackupViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, TeamScopedReadOnlyViewSet):
    serializer_class = BackupSerializer
    queryset = Backup.objects.select_related("host")
    filterset_fields = ["kind", "mode", "host", "status", "verify_ok", "schedule", "storage_target", "base"]
    search_fields = ["target_name"]
    ordering_fields = ["created_at", "size"]
    action_roles = {"create": Action.OPERATE, "verify": Action.OPERATE, "destroy": Action.MANAGE,
                    "export": Action.MANAGE, "import_file": Action.MANAGE}

    @extend_schema(request=BackupRequestSerializer, responses={202: dict})
    def create(self, request, *args, **kwargs):
        """Back up a volume, container or image: an Operation (202)."""
        if request.data.get("team") if hasattr(request.data, "get") else None:
            self.team_for_create(request)
        data = BackupRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        host = _visible(DockerHost, request.user, d["host"], "host")
        target = _visible(StorageTarget, request.user, d["storage_target"], "storage target") if d["storage_target"] else None
        op = _service(lambda: services.request_backup(request.user, host, d["kind"], d["target"], encrypt=d["encrypt"],
                                                      include_volumes=d["include_volumes"], commit=d["commit"],
                                                      incremental=d["incremental"], storage_target=target))
        return accepted(op, request)

    def perform_destroy(self, instance):
        if instance.children.exists():
            raise exceptions.ValidationError({"backup": ["Incremental backups build on this one: delete them first."]})
        storage_of(instance).delete_prefix(instance.folder)
        instance.delete()

    @extend_schema(request=VerifyRequestSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Re-read every artifact and check every hash (`drill: true`: also restore into
        scratch objects, compare, remove them): an Operation (202)."""
        backup = self.get_object()
        data = VerifyRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        host = _visible(DockerHost, request.user, d["host"], "host") if d["host"] else None
        return accepted(_service(lambda: services.request_verify(request.user, backup, drill=d["drill"], host=host)), request)

    @extend_schema(request=None, responses={(200, "application/x-tar"): bytes})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        """The backup as one portable tar: manifest + artifacts (never the key)."""
        backup = self.get_object()
        stream = _service(lambda: portable.start_export(request.user, backup))
        response = StreamingHttpResponse(stream, content_type="application/x-tar")
        response["Content-Disposition"] = f'attachment; filename="{portable.filename(backup)}"'
        return response

    @extend_schema(request={"multipart/form-data": ImportRequestSerializer}, responses={201: BackupSerializer})
    @action(detail=False, methods=["post"], url_path="import", url_name="import", parser_classes=[MultiPartParser, FormParser, JSONParser])
    def import_file(self, request):
        """Import an exported backup file into a team (admins); every hash is checked first."""
        team = self.team_for_create(request)
        data = ImportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        target = _visible(StorageTarget, request.user, d["storage_target"], "storage target") if d["storage_target"] else None
        backup = _service(lambda: portable.import_file(request.user, team, d["file"], d["key"], storage_target=target))
        return Response(BackupSerializer(backup, context=self.get_serializer_context()).data, status=201)


class RestoreViewSet(mixins.CreateModelMixin, TeamScopedReadOnlyViewSet):
    serializer_class = RestoreSerializer
    queryset = Restore.objects.select_related("backup", "host")
    filterset_fields = ["backup", "host", "status"]
    action_roles = {"create": Action.OPERATE}

    @extend_schema(request=RestoreRequestSerializer, responses={202: dict})
    def create(self, request, *args, **kwargs):
        """Restore a backup (overwrite needs admin): an Operation (202) and the restore's id."""
        if request.data.get("team") if hasattr(request.data, "get") else None:
            self.team_for_create(request)
        data = RestoreRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        backup = _visible(Backup, request.user, d["backup"], "backup")
        host = _visible(DockerHost, request.user, d["host"], "host")
        restore = _service(lambda: services.request_restore(request.user, backup, host, d["target"], overwrite=d["overwrite"]))
        response = accepted(restore.operation, request)
        response.data["restore"] = restore.pk
        return response


class BackupScheduleViewSet(TeamScopedViewSet):
    serializer_class = BackupScheduleSerializer
    queryset = BackupSchedule.objects.select_related("host")
    filterset_fields = ["host", "kind", "enabled"]
    search_fields = ["name", "target_name"]

    def perform_create(self, serializer):
        schedules.sync_periodic_task(serializer.save(team=self.team))

    def perform_update(self, serializer):
        schedules.sync_periodic_task(serializer.save())

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        if ctx.get("team") is None and getattr(self, "kwargs", {}).get("pk"):
            obj = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
            ctx["team"] = obj.team if obj else None
        return ctx

    def perform_destroy(self, instance):
        schedules.delete_periodic_task(instance)
        instance.delete()




class StorageTargetViewSet(TeamScopedViewSet):
    """A team's backup storage targets (admins manage them; the secret key is write-only)."""

    serializer_class = StorageTargetSerializer
    queryset = StorageTarget.objects.all()
    filterset_fields = ["kind"]
    search_fields = ["name", "bucket"]
    action_roles = {"check": Action.MANAGE}

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        """Reach the target now: {"ok": true} or {"ok": false, "error": "..."} (never a secret)."""
        from ..storage import check_target

        error = check_target(self.get_object())
        return Response({"ok": False, "error": error} if error else {"ok": True})

    def perform_destroy(self, instance):
        if instance.backups.exists() or instance.schedules.exists():
            raise exceptions.ValidationError({"storage_target": ["Backups or schedules use this target."]})
        instance.delete()
