from django.contrib.auth import authenticate
from django.db import transaction
from django.utils.text import slugify
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ActorAPIMixin, TeamScopedViewSet, user_may
from apps.core.roles import Action, Role

from .. import ratelimit
from ..models import ApiToken, Membership, Team
from .serializers import ApiTokenSerializer, MembershipSerializer, TeamSerializer, TokenRequestSerializer


class TokenView(ActorAPIMixin, APIView):
    """POST {username, password} -> {token}: issue an API token (shown once)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={201: inline_serializer("TokenResponse", {"token": serializers.CharField(), "id": serializers.IntegerField()})},
    )
    def post(self, request):
        ser = TokenRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        username, password = ser.validated_data["username"], ser.validated_data["password"]
        addr = request.META.get("REMOTE_ADDR", "")
        if ratelimit.is_limited(username, addr):
            raise exceptions.Throttled(detail="Too many failed logins; try again later.")
        user = authenticate(request._request, username=username, password=password)
        if user is None:
            ratelimit.record_failure(username, addr)
            raise exceptions.AuthenticationFailed("Wrong username or password.")
        ratelimit.clear(username)
        name = ser.validated_data["name"] or f"api-{ApiToken.objects.filter(user=user).count() + 1}"
        while ApiToken.objects.filter(user=user, name=name).exists():
            name = f"{name}-{ApiToken.objects.filter(user=user).count() + 1}"
        token, raw = ApiToken.issue(user, name[:100])
        return Response({"token": raw, "id": token.pk, "name": token.name}, status=status.HTTP_201_CREATED)


class TeamViewSet(ActorAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Teams the user belongs to; team admins edit team settings (name, time zone)."""

    serializer_class = TeamSerializer
    queryset = Team.objects.all()

    def get_queryset(self):
        return Team.objects.for_user(self.request.user)

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if self.action not in ("list", "retrieve") and not user_may(request.user, obj.pk, Action.MANAGE):
            raise exceptions.PermissionDenied("Only team admins change team settings.")

    def perform_update(self, serializer):
        name = serializer.validated_data.get("name")
        serializer.save(**({"slug": slugify(name)[:100]} if name else {}))


class MembershipViewSet(TeamScopedViewSet):
    """Members of the user's teams. Team admins add, change and remove members; nobody
    changes their own role, and a team always keeps an admin."""

    serializer_class = MembershipSerializer
    queryset = Membership.objects.select_related("user", "team")
    filterset_fields = ["team", "role"]

    def _guard(self, membership, new_role=None, deleting=False):
        if membership.user_id == self.request.user.pk and not self.request.user.is_superuser:
            raise exceptions.PermissionDenied("You cannot change your own membership.")
        leaving_admin = membership.role == Role.ADMIN and (deleting or (new_role and new_role != Role.ADMIN))
        if leaving_admin and not Membership.objects.filter(team=membership.team, role=Role.ADMIN).exclude(pk=membership.pk).exists():
            raise exceptions.ValidationError({"role": ["A team must keep at least one admin."]})

    def perform_update(self, serializer):
        self._guard(serializer.instance, new_role=serializer.validated_data.get("role"))
        serializer.save()

    @transaction.atomic
    def perform_destroy(self, instance):
        self._guard(instance, deleting=True)
        instance.delete()


class ApiTokenViewSet(ActorAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The user's own API tokens; `revoke` ends one."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.all()

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = self.get_object()
        if token.revoked_at is None:
            token.revoke()
        return Response(self.get_serializer(token).data)
