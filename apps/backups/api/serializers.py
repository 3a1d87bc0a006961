from rest_framework import serializers

from ..models import Backup, BackupSchedule, Restore, StorageTarget


class BackupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Backup
        fields = ["id", "uuid", "team", "kind", "mode", "parent", "base", "host", "target_name", "status", "storage",
                  "storage_target", "folder", "encrypted", "key_id",
                  "size", "content_size", "manifest", "error", "verified_at", "verify_ok", "drill", "flagged", "schedule", "operation",
                  "created_at", "finished_at"]
        read_only_fields = fields


class BackupRequestSerializer(serializers.Serializer):
    host = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Backup.Kind.choices)
    target = serializers.CharField(max_length=300)
    encrypt = serializers.BooleanField(default=False)
    include_volumes = serializers.BooleanField(default=False)
    commit = serializers.BooleanField(default=False)
    incremental = serializers.BooleanField(default=False, help_text="Volumes: only the files changed since the last full backup")
    storage_target = serializers.IntegerField(required=False, allow_null=True, default=None)
    team = serializers.IntegerField(required=False)


class VerifyRequestSerializer(serializers.Serializer):
    drill = serializers.BooleanField(default=False, help_text="Also restore into scratch objects, compare, remove them")
    host = serializers.IntegerField(required=False, allow_null=True, default=None,
                                    help_text="The drill's host (default: the backup's own; an imported backup has none)")


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A file from GET backups/{id}/export/")
    key = serializers.CharField(required=False, allow_blank=True, default="", max_length=64 * 1024,
                                help_text="Encrypted backups: the exported team key (JSON), unless the team has it")
    storage_target = serializers.IntegerField(required=False, allow_null=True, default=None,
                                              help_text="Keep it in this storage target of the team (default: local)")
    team = serializers.IntegerField(required=False)


class RestoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Restore
        fields = ["id", "team", "backup", "host", "target_name", "overwrite", "status", "error", "operation", "created_at", "finished_at"]
        read_only_fields = fields


class RestoreRequestSerializer(serializers.Serializer):
    backup = serializers.IntegerField()
    host = serializers.IntegerField()
    target = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    overwrite = serializers.BooleanField(default=False)
    team = serializers.IntegerField(required=False)


class BackupScheduleSerializer(serializers.ModelSerializer):
    class Meta:
        model = BackupSchedule
        fields = ["id", "team", "name", "kind", "host", "target_name", "cron", "encrypt", "incremental", "storage_target", "enabled",
                  "keep_last", "keep_daily", "keep_weekly", "keep_monthly", "created_at"]
        read_only_fields = ["id", "team", "created_at"]

    def validate_cron(self, value):
        from django.core.exceptions import ValidationError

        from ..schedules import parse_cron

        try:
            parse_cron(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return " ".join(value.split())

    def validate_host(self, host):
        team = self.context.get("team") or (self.instance.team if self.instance else None)
        if team is not None and host.team_id != team.pk:
            raise serializers.ValidationError("Choose a host of this team.")
        return host

    def validate_storage_target(self, target):
        team = self.context.get("team") or (self.instance.team if self.instance else None)
        if target is not None and team is not None and target.team_id != team.pk:
            raise serializers.ValidationError("Choose a storage target of this team.")
        return target


class StorageTargetSerializer(serializers.ModelSerializer):
    """The secret key is write-only (stored encrypted); omitted on update, it is kept."""

    secret_key = serializers.CharField(write_only=True, required=False, allow_blank=True, style={"input_type": "password"})
    has_secret_key = serializers.SerializerMethodField()

    class Meta:
        model = StorageTarget
        fields = ["id", "team", "name", "kind", "endpoint_url", "bucket", "region", "access_key_id", "secret_key",
                  "has_secret_key", "prefix", "created_at"]
        read_only_fields = ["id", "team", "created_at"]

    def get_has_secret_key(self, obj) -> bool:
        return bool(obj.secret_key)

    def validate(self, attrs):
        from django.core.exceptions import ValidationError

        from ..storage import validate_target

        current = {f: getattr(self.instance, f) for f in self.Meta.fields if hasattr(self.instance, f)} if self.instance else {}
        if not attrs.get("secret_key"):
            attrs.pop("secret_key", None)
        try:
            validate_target({**current, **attrs})
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs
