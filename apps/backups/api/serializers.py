from rest_framework import serializers

from ..models import Backup, BackupSchedule, Restore


class BackupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Backup
        fields = ["id", "uuid", "team", "kind", "host", "target_name", "status", "storage", "folder", "encrypted", "key_id",
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
    team = serializers.IntegerField(required=False)


class VerifyRequestSerializer(serializers.Serializer):
    drill = serializers.BooleanField(default=False, help_text="Also restore into scratch objects, compare, remove them")


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A file from GET backups/{id}/export/")
    key = serializers.CharField(required=False, allow_blank=True, default="", max_length=64 * 1024,
                                help_text="Encrypted backups: the exported team key (JSON), unless the team has it")
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
        fields = ["id", "team", "name", "kind", "host", "target_name", "cron", "encrypt", "enabled",
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
