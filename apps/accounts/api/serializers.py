from django.contrib.auth import get_user_model
from rest_framework import serializers

from apps.core.roles import Role

from ..models import ApiToken, Invitation, Membership, Team


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)
    name = serializers.CharField(max_length=100, required=False, default="")


class TeamSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "time_zone", "role", "created_at"]
        read_only_fields = ["id", "slug", "role", "created_at"]

    def get_role(self, team) -> str | None:
        return team.role_of(self.context["request"].user)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.SlugRelatedField(
        source="user",
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        error_messages={"does_not_exist": "No active user has this username."},  # no echo of the input
    )

    class Meta:
        model = Membership
        fields = ["id", "team", "username", "role", "created_at"]
        read_only_fields = ["id", "team", "created_at"]

    def validate(self, attrs):
        team = self.context.get("team") or getattr(self.instance, "team", None)
        user = attrs.get("user") or getattr(self.instance, "user", None)
        if self.instance is not None and user != self.instance.user:
            raise serializers.ValidationError({"username": ["A membership's user cannot change; add a new member instead."]})
        if self.instance is None and Membership.objects.filter(team=team, user=user).exists():
            raise serializers.ValidationError({"username": ["This user is already a member of the team."]})
        return attrs


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "key_prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class InvitationSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)
    invited_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "team", "email", "role", "invited_by", "expires_at", "accepted_at", "created_at"]
        read_only_fields = ["id", "team", "invited_by", "expires_at", "accepted_at", "created_at"]
