from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from ..models import Alert, AlertRule, Silence
from ..validation import rule_errors, selector_errors


def _team(serializer):
    return serializer.context.get("team") or (serializer.instance.team if serializer.instance else None)


class AlertRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertRule
        fields = ["id", "team", "name", "kind", "enabled", "severity", "description", "scope", "host", "container",
                  "label_selector", "metric", "operator", "threshold", "hysteresis", "for_seconds", "event",
                  "restart_count", "restart_window_seconds", "resolve_after_seconds", "log_pattern", "trend",
                  "horizon_seconds", "fit_seconds", "sigmas", "created_at", "updated_at"]
        read_only_fields = ["id", "team", "created_at", "updated_at"]
        validators = []  # (team, name) uniqueness is checked below with the team known

    def validate(self, attrs):
        merged = {f: getattr(self.instance, f) for f in self.Meta.fields if hasattr(self.instance, f)} if self.instance else {}
        merged.update(attrs)
        defaults = {"kind": AlertRule.Kind.METRIC, "scope": AlertRule.Scope.CONTAINER, "fit_seconds": 3600}
        for k, v in defaults.items():
            merged.setdefault(k, v)
        team = _team(self)
        errors = rule_errors(merged, team)
        if team is not None and "name" in attrs:
            taken = AlertRule.objects.filter(team=team, name=attrs["name"])
            if self.instance is not None:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                errors["name"] = "This team already has a rule with this name."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class AlertSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)

    class Meta:
        model = Alert
        fields = ["id", "team", "rule", "rule_name", "fingerprint", "status", "target_kind", "target_id", "target_name",
                  "target_labels", "host", "summary", "value", "evidence", "started_at", "fired_at", "resolved_at",
                  "last_match_at", "acknowledged_at", "acknowledged_by", "suppressed"]
        read_only_fields = fields


class SilenceSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.IntegerField(required=False, min_value=60, max_value=90 * 86400, write_only=True)

    class Meta:
        model = Silence
        fields = ["id", "team", "rule", "host", "label_selector", "target_name", "comment", "starts_at", "ends_at",
                  "duration_seconds", "created_by", "created_at"]
        read_only_fields = ["id", "team", "created_by", "created_at"]
        extra_kwargs = {"ends_at": {"required": False}, "starts_at": {"required": False}}

    def validate_comment(self, value):
        if len(value.strip()) < 3:
            raise serializers.ValidationError("Say why these alerts are silenced.")
        return value.strip()

    def validate_label_selector(self, value):
        problem = selector_errors(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate(self, attrs):
        team = _team(self)
        errors = {}
        for name in ("rule", "host"):
            obj = attrs.get(name)
            if obj is not None and team is not None and obj.team_id != team.pk:
                errors[name] = f"Choose a {name} of this team."
        starts = attrs.get("starts_at") or (self.instance.starts_at if self.instance else timezone.now())
        duration = attrs.pop("duration_seconds", None)
        if duration is not None:
            attrs["ends_at"] = starts + timedelta(seconds=duration)
        ends = attrs.get("ends_at") or (self.instance.ends_at if self.instance else None)
        if ends is None:
            errors["ends_at"] = "Give ends_at or duration_seconds."
        elif ends <= starts:
            errors["ends_at"] = "Must be after starts_at."
        if errors:
            raise serializers.ValidationError(errors)
        attrs.setdefault("starts_at", starts)
        return attrs
