from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from ..channels import parse_headers
from ..models import Channel, Delivery, DeliveryAttempt, Route
from ..validation import validate_channel, validate_route


def _drf_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})


class ChannelSerializer(serializers.ModelSerializer):
    """Secrets are write-only: reads show only whether they are set, and the URL's scheme+host."""

    kind = serializers.CharField(max_length=50, required=False)
    config = serializers.DictField(required=False, help_text="email: recipients, from_email, smtp_host, smtp_port, smtp_security, smtp_username")
    url = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=2000)
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=500)
    signing_secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200)
    headers = serializers.DictField(child=serializers.CharField(max_length=2000, allow_blank=True), write_only=True, required=False)
    url_hint = serializers.CharField(read_only=True)
    has_password = serializers.SerializerMethodField()
    has_signing_secret = serializers.SerializerMethodField()
    header_names = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = [
            "id", "team", "name", "kind", "enabled", "config", "url", "url_hint", "password", "has_password",
            "signing_secret", "has_signing_secret", "headers", "header_names", "rate_limit", "rate_burst",
            "last_error", "last_error_at", "last_success_at", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "team", "last_error", "last_error_at", "last_success_at", "created_at", "updated_at"]
        validators = []  # validate_channel says (team, name) clashes clearly

    def get_has_password(self, obj) -> bool:
        return bool(obj.password)

    def get_has_signing_secret(self, obj) -> bool:
        return bool(obj.signing_secret)

    def get_header_names(self, obj) -> list[str]:
        return sorted(parse_headers(obj.headers))

    def validate(self, attrs):
        instance = self.instance
        if instance is not None:
            if attrs.get("kind") not in (None, instance.kind):
                raise serializers.ValidationError({"kind": ["The type of a channel cannot change."]})
            stored = {"name": instance.name, "kind": instance.kind, "enabled": instance.enabled, "config": instance.config,
                      "rate_limit": instance.rate_limit, "rate_burst": instance.rate_burst}
            attrs = {**stored, **attrs} if self.partial else {**stored, **attrs}
        elif not attrs.get("kind"):
            raise serializers.ValidationError({"kind": ["This field is required."]})
        team = self.context.get("team") or (instance.team if instance else None)
        try:
            return validate_channel(attrs, team=team, instance=instance)
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from None

    def create(self, validated_data):
        channel = Channel(**validated_data)
        channel.save()
        return channel

    def update(self, instance, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        return instance


class TeamChannelsField(serializers.PrimaryKeyRelatedField):
    """Channel ids; other teams' channels are refused in validate_route (same team only)."""

    def get_queryset(self):
        return Channel.objects.all().for_user(self.context["request"].user)


class RouteSerializer(serializers.ModelSerializer):
    channels = TeamChannelsField(many=True, required=False)
    kinds = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    hosts = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    labels = serializers.DictField(child=serializers.CharField(max_length=200, allow_blank=True), required=False)
    group_by = serializers.ListField(child=serializers.CharField(max_length=20), required=False)

    class Meta:
        model = Route
        fields = [
            "id", "team", "name", "order", "enabled", "stop", "channels", "kinds", "min_severity", "hosts", "labels",
            "group_by", "group_wait", "group_interval", "repeat_interval", "quiet_start", "quiet_end",
            "quiet_bypass_severity", "digest_below", "digest_interval", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "team", "created_at", "updated_at"]
        validators = []

    def validate(self, attrs):
        instance = self.instance
        if instance is not None:
            stored = {f: getattr(instance, f) for f in self.Meta.fields if f not in ("id", "team", "channels", "created_at", "updated_at")}
            stored["channels"] = list(instance.channels.all())
            attrs = {**stored, **attrs}
        team = self.context.get("team") or (instance.team if instance else None)
        try:
            return validate_route(attrs, team=team, instance=instance)
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from None

    def create(self, validated_data):
        channels = validated_data.pop("channels")
        route = Route.objects.create(**validated_data)
        route.channels.set(channels)
        return route

    def update(self, instance, validated_data):
        channels = validated_data.pop("channels")
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        instance.channels.set(channels)
        return instance


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "status", "response_code", "error", "latency_ms", "retry_after", "started_at"]


class DeliverySerializer(serializers.ModelSerializer):
    attempt_log = AttemptSerializer(source="attempt_rows", many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id", "team", "channel", "route", "group", "status", "is_test", "subject", "event_count", "folded_into",
            "attempts", "next_attempt_at", "response_code", "error", "delivered_at", "created_at", "attempt_log",
        ]
        read_only_fields = fields
