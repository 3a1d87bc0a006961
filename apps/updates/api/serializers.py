from rest_framework import serializers

from ..models import UpdateCheck, UpdatePolicy, UpdateRun, UpdateWindow


class UpdateCheckSerializer(serializers.ModelSerializer):
    container_name = serializers.CharField(source="container.name", read_only=True)

    class Meta:
        model = UpdateCheck
        fields = ["id", "team", "container", "container_name", "host", "image_ref", "strategy", "status", "local_digests",
                  "remote_digest", "digest_update", "newer_tag", "newest_by_level", "target_ref", "monitor_only", "error", "checked_at"]
        read_only_fields = fields


class CheckRequestSerializer(serializers.Serializer):
    container = serializers.IntegerField(required=False, help_text="One container; without it, every container of `team`")
    team = serializers.IntegerField(required=False)


class UpdateRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = UpdateRun
        fields = ["id", "team", "kind", "container", "container_name", "host", "operation", "rollback_of", "status", "from_ref",
                  "from_image_id", "from_container_id", "to_ref", "to_image_id", "to_container_id", "override", "automatic",
                  "vuln_diff", "gate", "steps", "error", "created_by", "created_at", "finished_at"]
        read_only_fields = fields


class UpdateRequestSerializer(serializers.Serializer):
    container = serializers.IntegerField()
    target = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                   help_text="Image reference to update to (default: the last check's target)")
    override = serializers.BooleanField(required=False, default=False, help_text="Admins: proceed despite the vulnerability gate")
    health_seconds = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=3600)


class UpdatePolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = UpdatePolicy
        fields = ["id", "team", "container", "strategy", "include_regex", "exclude_regex", "allow_prerelease", "monitor_only",
                  "auto_update", "health_seconds", "created_at", "updated_at"]
        read_only_fields = ["id", "team", "created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from apps.containers.models import Container

        # Only the team's own containers exist for this field (another team's id is "not found").
        team = self.context.get("team") or getattr(self.instance, "team", None)
        if "container" in self.fields:
            self.fields["container"].queryset = Container.objects.filter(team=team) if team else Container.objects.none()

    def validate_container(self, value):
        team = self.context.get("team") or getattr(self.instance, "team", None)
        if value is not None and (team is None or value.team_id != team.pk):
            raise serializers.ValidationError("Not a container of this team.")
        return value

    def validate(self, attrs):
        team = self.context.get("team") or getattr(self.instance, "team", None)
        container = attrs.get("container", getattr(self.instance, "container", None))
        clash = UpdatePolicy.objects.filter(team=team, container=container)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if team is not None and clash.exists():
            raise serializers.ValidationError({"container": ["A policy for this already exists: change that one."]})
        return attrs


class UpdateWindowSerializer(serializers.ModelSerializer):
    weekdays = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=6), required=False, max_length=7)

    class Meta:
        model = UpdateWindow
        fields = ["id", "team", "name", "weekdays", "start", "duration_minutes", "time_zone", "enabled", "created_at"]
        read_only_fields = ["id", "team", "created_at"]

    def validate(self, attrs):
        team = self.context.get("team") or getattr(self.instance, "team", None)
        name = attrs.get("name", getattr(self.instance, "name", None))
        clash = UpdateWindow.objects.filter(team=team, name=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if team is not None and clash.exists():
            raise serializers.ValidationError({"name": ["A window of this name exists."]})
        attrs["weekdays"] = sorted(set(attrs.get("weekdays", getattr(self.instance, "weekdays", []) or [])))
        return attrs
