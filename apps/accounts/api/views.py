from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ActorAPIMixin, TeamScopedGenericViewSet, TeamScopedViewSet, user_may
from apps.core.roles import Action

from .. import emails, ratelimit, services
from ..models import ApiToken, Invitation, Membership, Team
from .serializers import (
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    InvitationSerializer,
    MembershipSerializer,
    TeamSerializer,
    TokenRequestSerializer,
)


class TokenView(ActorAPIMixin, APIView):
    """POST {username, password} -> {token}: issue an API token (shown once)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return "Token"  # so wrong credentials answer 401 (DRF turns 401 into 403 without it)

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
    """Teams the user belongs to; team admins edit team settings (name, time zone);
    installation superusers create teams (and become their first admin)."""

    serializer_class = TeamSerializer
    queryset = Team.objects.all()

    def get_queryset(self):
        return Team.objects.for_user(self.request.user)

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if self.action not in ("list", "retrieve") and not user_may(request.user, obj.pk, Action.MANAGE):
            raise exceptions.PermissionDenied("Only team admins change team settings.")

    @extend_schema(responses={201: TeamSerializer})
    def create(self, request, *args, **kwargs):
        if not request.user.is_superuser:  # 403 before the body is validated
            raise exceptions.PermissionDenied("Only installation superusers create teams.")
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        team = services.create_team(request.user, ser.validated_data["name"], ser.validated_data.get("time_zone", "UTC"))
        return Response(self.get_serializer(team).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        for field, value in serializer.validated_data.items():
            setattr(serializer.instance, field, value)
        services.save_team_settings(serializer.instance)


class MembershipViewSet(TeamScopedViewSet):
    """Members of the user's teams. Team admins add, change and remove members; the rules
    (nobody changes their own role, a team keeps an admin) are services.check_membership_change."""

    serializer_class = MembershipSerializer
    queryset = Membership.objects.select_related("user", "team")
    filterset_fields = ["team", "role"]

    def perform_update(self, serializer):
        services.check_membership_change(self.request.user, serializer.instance, new_role=serializer.validated_data.get("role"))
        serializer.save()

    def perform_destroy(self, instance):
        services.remove_member(self.request.user, instance)


class ApiTokenViewSet(ActorAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The user's own API tokens: create (the key is in that response only), list, revoke
    (`POST {id}/revoke/` or `DELETE {id}/`; the row stays, for the record)."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.all()

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(
        request=ApiTokenCreateSerializer,
        responses={
            201: inline_serializer(
                "ApiTokenCreated",
                {"token": serializers.CharField(), "id": serializers.IntegerField(), "name": serializers.CharField()},
            )
        },
    )
    def create(self, request):
        ser = ApiTokenCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        token, raw = services.issue_token(request.user, ser.validated_data["name"], ser.validated_data["expires_at"])
        body = {**self.get_serializer(token).data, "token": raw}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = self.get_object()
        if token.revoked_at is None:
            token.revoke()
        return Response(self.get_serializer(token).data)

    def destroy(self, request, pk=None):
        token = self.get_object()
        if token.revoked_at is None:
            token.revoke()
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TeamScopedGenericViewSet
):
    """Team admins invite people by e-mail (the link goes by e-mail only), list and revoke
    invitations. Only admins see a team's invitations."""

    serializer_class = InvitationSerializer
    queryset = Invitation.objects.select_related("team", "invited_by")
    filterset_fields = ["team", "role"]
    action_roles = {"list": Action.MANAGE, "retrieve": Action.MANAGE}

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "list":  # others' rows are not even listed
            qs = qs.filter(team__in=Team.objects.for_user(self.request.user, Action.MANAGE))
        return qs

    def create(self, request, *args, **kwargs):
        self.team = self.team_for_create(request)  # authorize before validating the body
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        invitation, raw = services.create_invitation(self.request.user, self.team, data["email"], data["role"])
        emails.send_invitation(self.request._request, invitation, raw)
        serializer.instance = invitation

    def perform_destroy(self, instance):
        services.revoke_invitation(self.request.user, instance)
