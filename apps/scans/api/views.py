from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.core.api import TeamScopedReadOnlyViewSet, TeamScopedViewSet, accepted, user_may
from apps.core.roles import Action

from .. import reports, services
from ..forms import DatabaseUploadForm
from ..models import AuditExclusion, ConfigAudit, Finding, Policy, Scan, Suppression, VulnerabilityDatabase
from . import serializers as s


def _operate_on(request, queryset, pk_value, field: str):
    if not str(pk_value).isdigit():
        raise exceptions.ValidationError({field: ["must be an id"]})
    obj = get_object_or_404(queryset.for_user(request.user, Action.VIEW), pk=int(pk_value))
    if not user_may(request.user, obj.team_id, Action.OPERATE):
        raise exceptions.PermissionDenied("Your role in this team does not allow this action.")
    return obj


class ScanViewSet(TeamScopedReadOnlyViewSet):
    serializer_class = s.ScanSerializer
    queryset = Scan.objects.select_related("host")
    filterset_fields = ["status", "repo", "image", "host", "source"]
    search_fields = ["image_ref", "repo"]
    ordering_fields = ["created_at", "image_ref"]
    action_roles = {"create": Action.OPERATE, "report": Action.VIEW, "diff": Action.VIEW}

    @extend_schema(request=s.ScanCreateSerializer, responses={202: None})
    def create(self, request):
        """Scan a mirrored image (202 with the Operation)."""
        from apps.containers.models import Image

        body = s.ScanCreateSerializer(data=request.data)
        if "image" not in request.data:
            body.is_valid(raise_exception=True)
        image = _operate_on(request, Image.objects.present(), request.data.get("image"), "image")
        return accepted(services.request_scan(request.user, image), request)

    @extend_schema(parameters=[OpenApiParameter("fmt", str, enum=list(reports.FORMATS))], responses={200: None})
    @action(detail=True, methods=["get"], url_path="report")
    def report(self, request, pk=None):
        """The report as JSON, SARIF, CycloneDX or SPDX (`?fmt=`)."""
        scan = self.get_object()
        fmt = request.query_params.get("fmt", "json")
        if fmt not in reports.FORMATS:
            raise exceptions.ValidationError({"fmt": [f"one of {', '.join(reports.FORMATS)}"]})
        body, content_type, _ext = reports.render(scan, fmt)
        return HttpResponse(body, content_type=content_type)

    @extend_schema(parameters=[OpenApiParameter("against", int, required=True)], responses={200: None})
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """Findings added, removed and unchanged since another scan (`?against=ID`)."""
        scan = self.get_object()
        against = request.query_params.get("against", "")
        if not against.isdigit():
            raise exceptions.ValidationError({"against": ["must be a scan id"]})
        other = get_object_or_404(self.get_queryset(), pk=int(against))
        diff = services.diff_scans(other, scan)
        return Response({k: s.FindingSerializer(v, many=True).data for k, v in diff.items()})


class FindingViewSet(TeamScopedReadOnlyViewSet):
    serializer_class = s.FindingSerializer
    queryset = Finding.objects.select_related("scan", "suppression")
    filterset_fields = ["scan", "severity", "package", "vulnerability_id", "package_type"]
    search_fields = ["vulnerability_id", "package", "summary"]
    ordering_fields = ["rank", "severity", "cvss_score", "package"]

    def get_queryset(self):
        qs = super().get_queryset()
        suppressed = self.request.query_params.get("suppressed")
        if suppressed in ("false", "0"):
            qs = qs.unsuppressed()
        return qs


class SuppressionViewSet(TeamScopedViewSet):
    serializer_class = s.SuppressionSerializer
    queryset = Suppression.objects.all()
    filterset_fields = ["vulnerability_id", "package", "image_repo"]
    search_fields = ["vulnerability_id", "package", "reason"]

    def perform_create(self, serializer):
        serializer.save(team=self.team, created_by=self.request.user)
        services.apply_suppressions(self.team)

    def perform_update(self, serializer):
        obj = serializer.save()
        services.apply_suppressions(obj.team)

    def perform_destroy(self, instance):
        team = instance.team
        instance.delete()
        services.apply_suppressions(team)


class ConfigAuditViewSet(TeamScopedReadOnlyViewSet):
    serializer_class = s.ConfigAuditSerializer
    queryset = ConfigAudit.objects.all()
    filterset_fields = ["container", "host", "container_name"]
    search_fields = ["container_name", "image_ref"]
    action_roles = {"create": Action.OPERATE}

    @extend_schema(request=s.ConfigAuditCreateSerializer, responses={202: None})
    def create(self, request):
        """Audit a mirrored container's configuration (202 with the Operation)."""
        from apps.containers.models import Container

        if "container" not in request.data:
            s.ConfigAuditCreateSerializer(data=request.data).is_valid(raise_exception=True)
        container = _operate_on(request, Container.objects.present(), request.data.get("container"), "container")
        return accepted(services.request_config_audit(request.user, container), request)


class AuditExclusionViewSet(TeamScopedViewSet):
    serializer_class = s.AuditExclusionSerializer
    queryset = AuditExclusion.objects.all()
    filterset_fields = ["check_id", "container_name"]


class PolicyViewSet(TeamScopedViewSet):
    serializer_class = s.PolicySerializer
    queryset = Policy.objects.all()
    filterset_fields = ["rule", "enforcement", "enabled"]
    search_fields = ["name"]


class VulnerabilityDatabaseViewSet(mixins.DestroyModelMixin, TeamScopedReadOnlyViewSet):
    serializer_class = s.VulnerabilityDatabaseSerializer
    queryset = VulnerabilityDatabase.objects.all()
    filterset_fields = ["kind"]
    search_fields = ["name", "source"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    action_roles = {"create": Action.MANAGE}

    @extend_schema(request=s.DatabaseUploadSerializer, responses={202: None})
    def create(self, request):
        """Import OSV JSON (a record, a list, or a zip) as a new database (202; re-matches after)."""
        team = self.team_for_create(request)
        form = DatabaseUploadForm(request.data, request.FILES)
        if not form.is_valid():
            raise exceptions.ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        return accepted(services.request_import(request.user, team, form.cleaned_data["file"], form.cleaned_data["name"]), request)
