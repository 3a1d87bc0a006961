from rest_framework import serializers

from ..models import AuditEvent, Event, Operation


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["id", "team", "kind", "severity", "host_id", "host_name", "target_kind", "target_id",
                  "target_name", "summary", "url", "payload", "occurred_at"]
        read_only_fields = fields


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "team", "actor", "actor_name", "via", "request_id", "remote_addr", "action", "name",
                  "object_type", "object_id", "object_repr", "before", "after", "created_at"]
        read_only_fields = fields


class OperationSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Operation
        fields = ["id", "team", "kind", "target_kind", "target_id", "target_name", "params", "status", "progress",
                  "log", "result", "error", "cancel_requested", "created_by", "created_at", "started_at", "finished_at"]
        read_only_fields = fields
