"""compose-projects/, compose/validate/, templates/ (DESIGN.md REST contract)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ActorAPIMixin, TeamScopedViewSet, accepted, user_may
from apps.core.roles import Action
from apps.hosts.models import DockerHost

from .. import catalogue, cli, graph, services
from ..models import ComposeProject, ComposeTemplate
from .serializers import (
    ComposeProjectSerializer,
    ComposeTemplateSerializer,
    DeploySerializer,
    FilesSerializer,
    OperationParamsSerializer,
    ValidateSerializer,
    VersionSerializer,
)


def _drf_errors(fn):
    """Service errors as API errors: field errors 400, role 403, missing CLI 503."""
    try:
        return fn()
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc)) from None
    except cli.ComposeCLIMissing as exc:
        raise exceptions.APIException(str(exc)) from None


def _team_guard(view, request) -> None:
    """A named team (body or ?team=) is authorized before the body is validated: another
    team's id answers 404, a too-low role 403 (the host named later is checked again)."""
    raw = request.data.get("team") if hasattr(request.data, "get") else None
    if raw not in (None, "") or request.query_params.get("team"):
        view.team_for_create(request)


def _host(user, pk) -> DockerHost:
    host = DockerHost.objects.for_user(user, Action.VIEW).filter(pk=pk).first()
    if host is None:
        raise Http404("No such host.")
    return host


class ComposeProjectViewSet(TeamScopedViewSet):
    serializer_class = ComposeProjectSerializer
    queryset = ComposeProject.objects.select_related("host")
    filterset_fields = ["host", "managed", "source"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    action_roles = {
        "up": Action.OPERATE, "down": Action.OPERATE, "pull": Action.OPERATE, "restart": Action.OPERATE,
        "stop": Action.OPERATE, "start": Action.OPERATE, "logs": Action.VIEW, "graph": Action.VIEW,
        "versions": Action.VIEW, "files": Action.MANAGE, "rollback": Action.MANAGE, "take_over": Action.MANAGE,
        "discover": Action.VIEW,
    }
    def update(self, request, *args, **kwargs):
        self.get_object()  # 404 across teams, 403 below admin, before anything else
        raise exceptions.ValidationError({"detail": ["Change a stack through files/ (a new version) or its operations."]})

    def create(self, request, *args, **kwargs):
        _team_guard(self, request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        host = _host(request.user, data["host"].pk)
        project = _drf_errors(lambda: services.create_project(request.user, host, data["name"], data["compose"], data.get("env", "")))
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED)

    def _operate(self, request, name):
        project = self.get_object()
        params = OperationParamsSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        op = _drf_errors(lambda: services.request_operation(request.user, project, name, **params.validated_data))
        return accepted(op, request)

    @extend_schema(request=OperationParamsSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def up(self, request, pk=None):
        """`up -d` (options: pull, build) as an Operation (202)."""
        return self._operate(request, "up")

    @extend_schema(request=OperationParamsSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def down(self, request, pk=None):
        """`down` (option: volumes) as an Operation (202)."""
        return self._operate(request, "down")

    @extend_schema(request=OperationParamsSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def pull(self, request, pk=None):
        return self._operate(request, "pull")

    @extend_schema(request=OperationParamsSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def restart(self, request, pk=None):
        """Restart the stack, or one `service`."""
        return self._operate(request, "restart")

    @extend_schema(request=OperationParamsSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop one `service`."""
        return self._operate(request, "stop")

    @extend_schema(request=OperationParamsSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start one `service`."""
        return self._operate(request, "start")

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def logs(self, request, pk=None):
        """The stack's last lines, every service interleaved by time, secret values masked."""
        project = self.get_object()
        tail = request.query_params.get("tail", "200")
        if not tail.isdigit():
            raise exceptions.ValidationError({"tail": ["must be a number"]})
        try:
            text = _drf_errors(lambda: services.stack_logs(request.user, project, int(tail)))
        except cli.ComposeError as exc:
            raise exceptions.ValidationError({"project": [str(exc)]}) from None
        return Response({"lines": text.splitlines()})

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def graph(self, request, pk=None):
        """Services (with live state), networks, volumes and dependencies."""
        project = self.get_object()
        g = graph.build(project, services.parsed(project)[0])
        return Response({
            "nodes": [{"id": n.id, "kind": n.kind, "name": n.name, "state": n.state, "detail": n.detail} for n in g.nodes],
            "edges": [{"kind": e.kind} for e in g.edges],
        })

    @extend_schema(responses=VersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        project = self.get_object()
        return Response(VersionSerializer(project.versions.all()[:100], many=True).data)

    @extend_schema(request=FilesSerializer, responses=VersionSerializer)
    @action(detail=True, methods=["post"])
    def files(self, request, pk=None):
        """Save a new version of the compose file (and .env): validated, written, kept."""
        project = self.get_object()
        body = FilesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        version = _drf_errors(lambda: services.save_files(request.user, project, data["compose"], data.get("env"), data.get("comment", "")))
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=VersionSerializer)
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        """Save version `{"version": N}` again as the newest version."""
        project = self.get_object()
        number = str(request.data.get("version", "")) if hasattr(request.data, "get") else ""
        if not number.isdigit():
            raise exceptions.ValidationError({"version": ["must be a version number"]})
        version = project.versions.filter(number=int(number)).first()
        if version is None:
            raise Http404("No such version.")
        new = _drf_errors(lambda: services.rollback(request.user, project, version))
        return Response(VersionSerializer(new).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ComposeProjectSerializer)
    @action(detail=True, methods=["post"], url_path="take-over")
    def take_over(self, request, pk=None):
        """Make a stack started elsewhere manageable (its files must be reachable)."""
        project = _drf_errors(lambda: services.take_over(request.user, self.get_object()))
        return Response(self.get_serializer(project).data)

    @extend_schema(request=None, responses=ComposeProjectSerializer(many=True))
    @action(detail=False, methods=["post"])
    def discover(self, request):
        """Discover stacks on `?host=` now (labels and stack folders)."""
        _team_guard(self, request)
        raw = request.query_params.get("host", "")
        if not raw.isdigit():
            raise exceptions.ValidationError({"host": ["must be a host id"]})
        host = _host(request.user, int(raw))
        projects = _drf_errors(lambda: services.request_discover(request.user, host))
        return Response(self.get_serializer(projects, many=True).data)


class ValidateView(ActorAPIMixin, APIView):
    """POST a Compose file's text: errors and warnings, each with its line and column."""

    @extend_schema(request=ValidateSerializer, responses={200: dict})
    def post(self, request):
        body = ValidateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        host = _host(request.user, data["host"]) if data.get("host") else None
        result = services.validate_for(request.user, data["content"], data.get("env", ""), host, data.get("project", ""))
        return Response(result.as_dict())


class ComposeTemplateViewSet(TeamScopedViewSet):
    serializer_class = ComposeTemplateSerializer
    queryset = ComposeTemplate.objects.all()
    search_fields = ["name", "description"]
    action_roles = {"builtin": Action.VIEW, "deploy": Action.MANAGE}

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def builtin(self, request):
        """The built-in catalogue."""
        return Response([{"id": f"builtin:{t.key}", "name": t.name, "description": t.description,
                          "compose_text": t.compose_text, "variables": t.variables} for t in catalogue.BUILTIN.values()])

    @extend_schema(request=DeploySerializer, responses={201: ComposeProjectSerializer})
    @action(detail=False, methods=["post"])
    def deploy(self, request):
        """A new stack from a template (with `up`: also started, 202 with the Operation)."""
        _team_guard(self, request)
        body = DeploySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        host = _host(request.user, data["host"])
        if not user_may(request.user, host.team_id, Action.MANAGE):
            raise exceptions.PermissionDenied("Your role in this team does not allow this action.")
        project, op = _drf_errors(lambda: catalogue.deploy(request.user, host, data["template"], data["name"],
                                                           data["variables"], up=data["up"]))
        if op is not None:
            return accepted(op, request)
        return Response(ComposeProjectSerializer(project).data, status=status.HTTP_201_CREATED)


