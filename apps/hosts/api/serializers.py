from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from ..models import DockerHost
from ..validation import PEM_MAX, URL_MAX, validate_host


class DockerHostSerializer(serializers.ModelSerializer):
    """Hosts over the API. Validation is validation.validate_host, as in the form and admin."""

    url = serializers.CharField(max_length=URL_MAX, help_text=DockerHost._meta.get_field("url").help_text)
    tls_ca_cert = serializers.CharField(required=False, allow_blank=True, max_length=PEM_MAX)
    tls_client_cert = serializers.CharField(required=False, allow_blank=True, max_length=PEM_MAX)
    tls_client_key = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=PEM_MAX)
    ssh_private_key = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=PEM_MAX)
    repin_host_key = serializers.BooleanField(write_only=True, required=False, default=False)
    has_tls_client_key = serializers.SerializerMethodField()
    has_ssh_private_key = serializers.SerializerMethodField()

    class Meta:
        model = DockerHost
        fields = [
            "id", "team", "name", "url", "description", "tls_ca_cert", "tls_client_cert", "tls_client_key",
            "has_tls_client_key", "ssh_private_key", "has_ssh_private_key", "repin_host_key", "ssh_host_key",
            "ssh_host_key_fingerprint", "status", "last_checked_at", "last_seen_at", "last_error", "engine_version",
            "api_version", "engine_info", "created_at", "updated_at",
        ]
        read_only_fields = [
            "id", "team", "ssh_host_key", "ssh_host_key_fingerprint", "status", "last_checked_at", "last_seen_at",
            "last_error", "engine_version", "api_version", "engine_info", "created_at", "updated_at",
        ]
        # The (team, name) constraint is checked by validate_host with a clear message.
        validators = []

    def get_has_tls_client_key(self, obj) -> bool:
        return bool(obj.tls_client_key)

    def get_has_ssh_private_key(self, obj) -> bool:
        return bool(obj.ssh_private_key)

    def validate(self, attrs):
        instance = self.instance
        data = attrs
        if instance is not None and self.partial:
            # A PATCH validates the host as it will be: stored values for what was not sent.
            stored = {f: getattr(instance, f) for f in ("name", "url", "description", "tls_ca_cert", "tls_client_cert")}
            data = {**stored, **attrs}
        team = self.context.get("team") or (instance.team if instance is not None else None)
        request = self.context.get("request")
        try:
            values = validate_host(data, user=getattr(request, "user", None), team=team, instance=instance,
                                   repin=attrs.get("repin_host_key", False))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        values.pop("repin_host_key", None)
        return values

    def create(self, validated_data):
        host = DockerHost(**validated_data)  # team comes from the viewset's serializer.save(team=...)
        host.save()
        return host

    def update(self, instance, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        return instance
