"""API bases: structured errors, pagination, and team-scoped viewsets whose permissions
live in the queryset (404 across teams) and in one role check (403 before validation)."""

import logging

from django.http import Http404
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.response import Response

from . import actor as actor_ctx
from .querysets import team_ids_for
from .roles import Action

logger = logging.getLogger(__name__)


class ActorAPIMixin:
    """Token auth happens inside DRF: re-set the actor once the request is authenticated."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._actor_token = actor_ctx.set_actor(
            actor_ctx.actor_for_user(
                request.user,
                "api",
                getattr(request._request, "request_id", ""),
                request.META.get("REMOTE_ADDR", ""),
            )
        )

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_actor_token", None)
        if token is not None:
            actor_ctx.reset_actor(token)
            self._actor_token = None
        return super().finalize_response(request, response, *args, **kwargs)


def user_role_in(user, team_id) -> str | None:
    from django.apps import apps

    if user.is_superuser:
        return "admin"
    Membership = apps.get_model("accounts", "Membership")
    return Membership.objects.filter(user_id=user.pk, team_id=team_id).values_list("role", flat=True).first()


def user_may(user, team_id, action: str) -> bool:
    from .roles import role_allows

    return bool(user.is_superuser) or role_allows(user_role_in(user, team_id), action)


class TeamScopedGenericViewSet(ActorAPIMixin, viewsets.GenericViewSet):
    """A viewset over a TeamOwnedModel.

    Reads see every team the user belongs to (`?team=` narrows). Each DRF action needs a
    role (`action_roles`); an object of another team answers 404, a role that may not act
    answers 403 before the body is validated.
    """

    action_roles: dict[str, str] = {}
    default_action_roles = {
        "list": Action.VIEW,
        "retrieve": Action.VIEW,
        "create": Action.MANAGE,
        "update": Action.MANAGE,
        "partial_update": Action.MANAGE,
        "destroy": Action.MANAGE,
    }
    team_path = "team"

    def required_action(self) -> str:
        roles = {**self.default_action_roles, **self.action_roles}
        return roles.get(self.action, Action.MANAGE)

    def get_queryset(self):
        qs = self.queryset.all().for_user(self.request.user, Action.VIEW)
        team = self.request.query_params.get("team")
        if team:
            if not team.isdigit():
                raise exceptions.ValidationError({"team": ["must be a team id"]})
            qs = qs.filter(**{self.team_path: team})
        return qs

    def object_team_id(self, obj):
        target = obj
        for part in self.team_path.split("__"):
            target = getattr(target, part)
        return target.pk

    def check_permissions(self, request):
        """Before any handler runs, for a list-level change (create, pull, import, ...): a role
        the user holds in no team is a 403, and a `team` the user is not in is a 404, so a
        validation error never comes first."""
        super().check_permissions(request)
        if self.detail or request.method in permissions.SAFE_METHODS or request.user.is_superuser:
            return
        action = self.required_action()
        if not team_ids_for(request.user, action).exists():
            raise exceptions.PermissionDenied("Your role does not allow this action in any of your teams.")
        raw = request.query_params.get("team")
        if raw is None:
            try:
                raw = request.data.get("team") if hasattr(request.data, "get") else None
            except (exceptions.ParseError, exceptions.UnsupportedMediaType):
                return  # the handler reports the body error
        if raw not in (None, "") and not (str(raw).isdigit() and team_ids_for(request.user, Action.VIEW).filter(team_id=int(raw)).exists()):
            raise Http404("No such team.")

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if not user_may(request.user, self.object_team_id(obj), self.required_action()):
            raise exceptions.PermissionDenied("Your role in this team does not allow this action.")

    def team_for_create(self, request):
        """The team a new object goes to: `team` in the body, `?team=`, or the only team the
        user may create in. Another team's id answers 404, a too-low role 403."""
        from django.apps import apps

        Team = apps.get_model("accounts", "Team")
        raw = request.data.get("team") if hasattr(request.data, "get") else None
        raw = raw or request.query_params.get("team")
        if raw in (None, ""):
            allowed = Team.objects.all() if request.user.is_superuser else Team.objects.filter(
                pk__in=team_ids_for(request.user, self.required_action())
            )
            teams = list(allowed[:2])
            if len(teams) == 1:
                return teams[0]
            raise exceptions.ValidationError({"team": ["This field is required (you belong to several teams)."]})
        if not str(raw).isdigit():
            raise exceptions.ValidationError({"team": ["must be a team id"]})
        visible = Team.objects.all() if request.user.is_superuser else Team.objects.filter(
            pk__in=team_ids_for(request.user, Action.VIEW)
        )
        team = visible.filter(pk=int(raw)).first()
        if team is None:
            raise Http404("No such team.")
        if not user_may(request.user, team.pk, self.required_action()):
            raise exceptions.PermissionDenied("Your role in this team does not allow this action.")
        return team

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        ctx["team"] = getattr(self, "team", None)
        return ctx


class TeamScopedReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TeamScopedGenericViewSet):
    pass


class TeamScopedViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TeamScopedReadOnlyViewSet,
):
    def create(self, request, *args, **kwargs):
        self.team = self.team_for_create(request)  # authorize before validating the body
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.save(team=self.team)


def accepted(operation, request) -> Response:
    """202 with the Operation's URL: what every change that runs in the background returns."""
    from django.urls import reverse

    url = request.build_absolute_uri(reverse("api:operation-detail", args=[operation.pk]))
    return Response({"operation": operation.pk, "status": operation.status, "url": url}, status=status.HTTP_202_ACCEPTED, headers={"Location": url})
