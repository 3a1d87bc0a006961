from rest_framework import serializers

from ..models import DockerHost


class DockerHostSerializer(serializers.ModelSerializer):
    tls_client_key = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=20000)
    ssh_private_key = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=20000)
    has_tls_client_key = serializers.SerializerMethodField()
    has_ssh_private_key = serializers.SerializerMethodField()

    class Meta:
        model = DockerHost
        fields = [
            "id", "team", "name", "url", "description", "tls_ca_cert", "tls_client_cert", "tls_client_key",
            "has_tls_client_key", "ssh_private_key", "has_ssh_private_key", "ssh_host_key_fingerprint",
            "status", "last_checked_at", "last_seen_at", "last_error", "engine_version", "api_version",
            "engine_info", "created_at", "updated_at",
        ]
        read_only_fields = [
            "id", "team", "ssh_host_key_fingerprint", "status", "last_checked_at", "last_seen_at", "last_error",
            "engine_version", "api_version", "engine_info", "created_at", "updated_at",
        ]

    def get_has_tls_client_key(self, obj) -> bool:
        return bool(obj.tls_client_key)

    def get_has_ssh_private_key(self, obj) -> bool:
        return bool(obj.ssh_private_key)
