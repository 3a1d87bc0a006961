from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.containers.models import Container
from apps.core.api import ActorAPIMixin, TeamScopedReadOnlyViewSet, TeamScopedViewSet, accepted, user_may
from apps.core.roles import Action

from .. import runs, services
from ..models import UpdateCheck, UpdatePolicy, UpdateRun, UpdateWindow
from ..version import version_info
from . import serializers as s


def _drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})


def _container(request, value) -> Container:
    if not str(value).isdigit():
        raise exceptions.ValidationError({"container": ["must be a container id"]})
    return get_object_or_404(Container.objects.for_user(request.user, Action.VIEW).present(), pk=int(value))


class UpdateCheckViewSet(TeamScopedReadOnlyViewSet):
    serializer_class = s.UpdateCheckSerializer
    queryset = UpdateCheck.objects.select_related("container")
    filterset_fields = ["status", "container", "host", "digest_update", "strategy"]
    search_fields = ["image_ref", "container__name"]
    ordering_fields = ["checked_at", "status"]
    action_roles = {"create": Action.OPERATE}

    @extend_schema(request=s.CheckRequestSerializer, responses={202: None})
    def create(self, request):
        """Check one container (`container`) or every container of a team (`team`) now (202)."""
        if request.data.get("container") not in (None, ""):
            container = _container(request, request.data["container"])
            if not user_may(request.user, container.team_id, Action.OPERATE):
                raise exceptions.PermissionDenied("Your role in this team does not allow update checks.")
            return accepted(services.request_check(request.user, container.team, container), request)
        team = self.team_for_create(request)
        return accepted(services.request_check(request.user, team), request)


class UpdateRunViewSet(TeamScopedReadOnlyViewSet):
    serializer_class = s.UpdateRunSerializer
    queryset = UpdateRun.objects.all()
    filterset_fields = ["status", "kind", "container", "host", "automatic"]
    search_fields = ["container_name", "from_ref", "to_ref"]
    ordering_fields = ["created_at"]
    action_roles = {"create": Action.OPERATE, "rollback": Action.OPERATE, "dry_run": Action.VIEW}

    @extend_schema(request=s.UpdateRequestSerializer, responses={202: None})
    def create(self, request):
        """Update a container (202 with the Operation). `override` needs the admin role."""
        if request.data.get("container") in (None, ""):
            s.UpdateRequestSerializer(data=request.data).is_valid(raise_exception=True)
        container = _container(request, request.data["container"])
        if not user_may(request.user, container.team_id, Action.OPERATE):
            raise exceptions.PermissionDenied("Your role in this team does not allow updates.")
        body = s.UpdateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            op = runs.request_update(request.user, container, target=body.validated_data.get("target", ""),
                                     override=body.validated_data["override"], health_seconds=body.validated_data.get("health_seconds"))
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        return accepted(op, request)

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        """Roll the container back to the image it ran before this (its last) update."""
        run = self.get_object()
        try:
            return accepted(runs.request_rollback(request.user, run), request)
        except DjangoValidationError as exc:
            raise _drf(exc) from None

    @extend_schema(parameters=[OpenApiParameter("team", int)], responses={200: None})
    @action(detail=False, methods=["get"], url_path="dry-run")
    def dry_run(self, request):
        """Per team (`?team=` narrows): what an automatic run would update now, and why others
        are skipped. Nothing changes."""
        from apps.accounts.models import Team
        from apps.core.querysets import team_ids_for

        teams = Team.objects.all() if request.user.is_superuser else Team.objects.filter(pk__in=team_ids_for(request.user))
        raw = request.query_params.get("team", "")
        if raw:
            if not raw.isdigit():
                raise exceptions.ValidationError({"team": ["must be a team id"]})
            teams = teams.filter(pk=int(raw))
        return Response({"results": [{"team": t.pk, "in_window": runs.in_window(t), "items": runs.plan(t)} for t in teams]})


class UpdatePolicyViewSet(TeamScopedViewSet):
    serializer_class = s.UpdatePolicySerializer
    queryset = UpdatePolicy.objects.select_related("container")
    filterset_fields = ["container", "strategy", "auto_update", "monitor_only"]


class UpdateWindowViewSet(TeamScopedViewSet):
    serializer_class = s.UpdateWindowSerializer
    queryset = UpdateWindow.objects.all()
    filterset_fields = ["enabled"]
    search_fields = ["name"]


class VersionView(ActorAPIMixin, APIView):
    """DockerForge's version (and the release feed's verdict when one is configured)."""

    @extend_schema(responses={200: None})
    def get(self, request):
        return Response(version_info())
