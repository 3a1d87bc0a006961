"""Lifecycle actions for the containers API, as a mixin the ContainerViewSet composes:
POST containers/ (create), containers/{id}/{start,stop,restart,pause,unpause,kill,remove,
rename,recreate,duplicate}/ -> 202 with the Operation.

Roles: OPERATE for all of them (a viewer gets 403 before the body is looked at; another
team's container is 404 through the viewset's queryset)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.decorators import action

from apps.core.api import accepted, user_may
from apps.core.querysets import team_ids_for
from apps.core.roles import Action
from apps.hosts.models import DockerHost

from .. import lifecycle

OperationAccepted = inline_serializer(
    "ContainerOperationAccepted",
    {"operation": serializers.IntegerField(), "status": serializers.CharField(), "url": serializers.URLField()},
)
SPEC_HELP = "Text with one item a line, or a JSON list"


class SpecSerializer(serializers.Serializer):
    """For the schema: create_spec.clean_changes validates (one path for form and API)."""

    image = serializers.CharField(required=False)
    name = serializers.CharField(required=False)
    command = serializers.JSONField(required=False, help_text="A string (split like a shell) or a list")
    entrypoint = serializers.JSONField(required=False)
    env = serializers.JSONField(required=False, help_text=f"KEY=VALUE: {SPEC_HELP}, or an object")
    ports = serializers.JSONField(required=False, help_text=f"[ip:][host_port:]container_port[/proto]: {SPEC_HELP}")
    volumes = serializers.JSONField(required=False, help_text=f"name:/path[:ro] or /host:/path[:ro] (admins): {SPEC_HELP}")
    networks = serializers.JSONField(required=False, help_text=SPEC_HELP)
    restart_policy = serializers.CharField(required=False, help_text="no, always, unless-stopped, on-failure[:N]")
    memory = serializers.JSONField(required=False, help_text="Bytes or 256m, 1g")
    cpus = serializers.JSONField(required=False)
    labels = serializers.JSONField(required=False, help_text=f"KEY=VALUE: {SPEC_HELP}, or an object")
    healthcheck = serializers.JSONField(required=False, help_text='{"test", "interval", "timeout", "start_period", "retries"}')


class CreateSerializer(SpecSerializer):
    host = serializers.IntegerField()
    start = serializers.BooleanField(required=False, default=True)


class StopSerializer(serializers.Serializer):
    timeout = serializers.IntegerField(required=False, min_value=0, max_value=3600, help_text="Seconds before SIGKILL")


class KillSerializer(serializers.Serializer):
    signal = serializers.CharField(required=False, help_text="Signal name or number; default SIGKILL")


class RemoveSerializer(serializers.Serializer):
    force = serializers.BooleanField(required=False, default=False)
    volumes = serializers.BooleanField(required=False, default=False, help_text="Also remove anonymous volumes")


class RenameSerializer(serializers.Serializer):
    name = serializers.CharField()


class RecreateSerializer(serializers.Serializer):
    changes = SpecSerializer(required=False)
    health_seconds = serializers.FloatField(required=False, min_value=0, max_value=3600)


class DuplicateSerializer(serializers.Serializer):
    changes = SpecSerializer(help_text="At least a new name")


LIFECYCLE_ACTION_ROLES = {
    name: Action.OPERATE for name in (*lifecycle.ACTIONS, "create", "recreate", "duplicate")
}


def _body(request) -> dict:
    data = request.data
    if not hasattr(data, "get"):
        raise exceptions.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    return data


def _plain(data) -> dict:
    # A form-encoded body is a QueryDict: one value a key.
    return data.dict() if hasattr(data, "dict") else dict(data)


class ContainerLifecycleMixin:
    """Compose before the viewset base: `class ContainerViewSet(ContainerLifecycleMixin, ...)`.
    `required_action` merges these roles with the viewset's own `action_roles`."""

    lifecycle_action_roles = LIFECYCLE_ACTION_ROLES

    def required_action(self) -> str:
        if self.action in self.lifecycle_action_roles:
            return self.lifecycle_action_roles[self.action]
        return super().required_action()

    def _run(self, request, name: str, options: tuple[str, ...] = ()):
        container = self.get_object()  # 404 other teams, 403 below operator: before the body
        body = _body(request)
        opts = {k: body.get(k) for k in options if k in body}
        return accepted(lifecycle.request_action(request.user, container, name, **opts), request)

    @extend_schema(request=None, responses={202: OperationAccepted})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start the container (an Operation)."""
        return self._run(request, "start")

    @extend_schema(request=StopSerializer, responses={202: OperationAccepted})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop: SIGTERM, then SIGKILL after `timeout` seconds."""
        return self._run(request, "stop", ("timeout",))

    @extend_schema(request=StopSerializer, responses={202: OperationAccepted})
    @action(detail=True, methods=["post"])
    def restart(self, request, pk=None):
        return self._run(request, "restart", ("timeout",))

    @extend_schema(request=None, responses={202: OperationAccepted})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._run(request, "pause")

    @extend_schema(request=None, responses={202: OperationAccepted})
    @action(detail=True, methods=["post"])
    def unpause(self, request, pk=None):
        return self._run(request, "unpause")

    @extend_schema(request=KillSerializer, responses={202: OperationAccepted})
    @action(detail=True, methods=["post"])
    def kill(self, request, pk=None):
        return self._run(request, "kill", ("signal",))

    @extend_schema(request=RemoveSerializer, responses={202: OperationAccepted})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        """Remove the container (`force` stops it first; `volumes` removes its anonymous volumes)."""
        return self._run(request, "remove", ("force", "volumes"))

    @extend_schema(request=RenameSerializer, responses={202: OperationAccepted})
    @action(detail=True, methods=["post"])
    def rename(self, request, pk=None):
        return self._run(request, "rename", ("name",))

    @extend_schema(request=RecreateSerializer, responses={202: OperationAccepted})
    @action(detail=True, methods=["post"])
    def recreate(self, request, pk=None):
        """Recreate from the container's spec with `changes`; rolled back if the new one fails."""
        container = self.get_object()
        body = _body(request)
        changes = body.get("changes") or {}
        seconds = body.get("health_seconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 3600):
            raise exceptions.ValidationError({"health_seconds": ["Seconds between 0 and 3600."]})
        return accepted(lifecycle.request_recreate(request.user, container, changes, health_seconds=seconds), request)

    @extend_schema(request=DuplicateSerializer, responses={202: OperationAccepted})
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        """Create and start a copy (with `changes`; a new `name` at least)."""
        container = self.get_object()
        return accepted(lifecycle.request_duplicate(request.user, container, _body(request).get("changes") or {}), request)

    @extend_schema(request=CreateSerializer, responses={202: OperationAccepted})
    def create(self, request, *args, **kwargs):
        """Create (and start, unless `start` is false) a container on `host`."""
        user = request.user
        if not (user.is_superuser or team_ids_for(user, Action.OPERATE).exists()):
            raise exceptions.PermissionDenied("Your role does not allow creating containers.")
        body = _plain(_body(request))
        raw_host = body.pop("host", None)
        if not str(raw_host or "").isdigit():
            raise exceptions.ValidationError({"host": ["A host id is required."]})
        host = DockerHost.objects.for_user(user, Action.VIEW).filter(pk=int(raw_host)).first()
        if host is None:
            raise Http404("No such host.")
        if not user_may(user, host.team_id, Action.OPERATE):
            raise exceptions.PermissionDenied("Your role in this team does not allow creating containers.")
        start = body.pop("start", True)
        return accepted(lifecycle.request_create(user, host, body, start=start not in (False, "false", "0")), request)
