from rest_framework import serializers

from apps.hosts.models import DockerHost

from .. import files
from ..models import ComposeFileVersion, ComposeProject, ComposeTemplate

TEXT_MAX = files.MAX_FILE_BYTES


class ComposeProjectSerializer(serializers.ModelSerializer):
    # Write-only inputs for creating a stack; the files themselves are read from `versions/`.
    compose = serializers.CharField(write_only=True, max_length=TEXT_MAX, trim_whitespace=False)
    env = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=TEXT_MAX, trim_whitespace=False)
    host = serializers.PrimaryKeyRelatedField(queryset=DockerHost.objects.all())

    class Meta:
        model = ComposeProject
        fields = ["id", "team", "host", "name", "source", "working_dir", "config_files", "managed", "files_reachable",
                  "services", "last_seen_at", "created_at", "updated_at", "compose", "env"]
        read_only_fields = ["id", "team", "source", "working_dir", "config_files", "managed", "files_reachable",
                            "services", "last_seen_at", "created_at", "updated_at"]
        validators = []


class FilesSerializer(serializers.Serializer):
    compose = serializers.CharField(max_length=TEXT_MAX, trim_whitespace=False)
    env = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX, trim_whitespace=False,
                                help_text="The .env text; lines left as KEY=•••••• keep their value. Omit to keep the .env.")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=300)


class OperationParamsSerializer(serializers.Serializer):
    service = serializers.CharField(required=False, allow_blank=True, max_length=255)
    pull = serializers.BooleanField(required=False, default=False)
    build = serializers.BooleanField(required=False, default=False)
    volumes = serializers.BooleanField(required=False, default=False)


class VersionSerializer(serializers.ModelSerializer):
    env = serializers.SerializerMethodField(help_text="The .env with every value masked")

    class Meta:
        model = ComposeFileVersion
        fields = ["id", "number", "compose_text", "env", "comment", "created_by", "created_at", "deployed_at"]

    def get_env(self, obj) -> str:
        return files.mask_env(obj.env_text or "")


class ValidateSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, trim_whitespace=False)
    env = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX, trim_whitespace=False)
    host = serializers.IntegerField(required=False, help_text="Check ports and images against this host")
    project = serializers.CharField(required=False, allow_blank=True, max_length=255)


class ComposeTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComposeTemplate
        fields = ["id", "team", "name", "description", "compose_text", "variables", "created_at", "updated_at"]
        read_only_fields = ["id", "team", "created_at", "updated_at"]
        extra_kwargs = {"compose_text": {"trim_whitespace": False}}
        validators = []

    def validate_variables(self, value):
        if not isinstance(value, list) or not all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value):
            raise serializers.ValidationError('A list of {"name", "default", "description", "secret"} objects.')
        return value

    def validate_compose_text(self, value):
        from ..validation import validate

        result = validate(value, env={})
        if not result.ok:
            raise serializers.ValidationError([str(e) for e in result.errors])
        return value


class DeploySerializer(serializers.Serializer):
    template = serializers.CharField(help_text='"builtin:<key>" or a team template id')
    host = serializers.IntegerField()
    name = serializers.CharField(max_length=63)
    variables = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    up = serializers.BooleanField(required=False, default=False)
