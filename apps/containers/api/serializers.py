"""Read serializers of the mirror. Other slices subclass or add their own beside these."""

from rest_framework import serializers

from apps.activity.models import Event

from ..models import Container, Image, Network, Volume

MIRROR_FIELDS = ["id", "team", "host", "host_name", "stale", "labels", "engine_created_at", "last_synced_at", "removed_at"]


class MirrorSerializer(serializers.ModelSerializer):
    host_name = serializers.CharField(source="host.name", read_only=True)
    stale = serializers.SerializerMethodField(help_text="The host is unreachable: this is the last known state")

    def get_stale(self, obj) -> bool:
        return obj.host.status != "up"


class ContainerSerializer(MirrorSerializer):
    class Meta:
        model = Container
        fields = [
            *MIRROR_FIELDS, "docker_id", "name", "image", "image_id", "command", "state", "status", "health",
            "exit_code", "oom_killed", "restart_count", "started_at", "finished_at", "ports", "networks", "mounts",
            "compose_project", "compose_service",
        ]
        read_only_fields = fields


class ContainerDetailSerializer(ContainerSerializer):
    """Retrieve adds the last inspect (environment values are never stored: see sync.py)."""

    class Meta(ContainerSerializer.Meta):
        fields = [*ContainerSerializer.Meta.fields, "inspect"]
        read_only_fields = fields


class ImageSerializer(MirrorSerializer):
    class Meta:
        model = Image
        fields = [*MIRROR_FIELDS, "docker_id", "repo_tags", "repo_digests", "size", "architecture", "os"]
        read_only_fields = fields


class VolumeSerializer(MirrorSerializer):
    class Meta:
        model = Volume
        fields = [*MIRROR_FIELDS, "name", "driver", "mountpoint", "scope", "options"]
        read_only_fields = fields


class NetworkSerializer(MirrorSerializer):
    class Meta:
        model = Network
        fields = [*MIRROR_FIELDS, "docker_id", "name", "driver", "scope", "internal", "attachable", "ipam", "attached"]
        read_only_fields = fields


class DockerEventSerializer(serializers.ModelSerializer):
    """An engine event as the listener stored it (activity Event, kind container./image./...)."""

    class Meta:
        model = Event
        fields = ["id", "team", "kind", "severity", "host_id", "host_name", "target_kind", "target_id", "target_name",
                  "summary", "url", "payload", "occurred_at"]
        read_only_fields = fields
