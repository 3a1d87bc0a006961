from django.utils import timezone
from rest_framework import serializers

from ..metrics import ALL_NAMES
from ..queries import parse_duration, parse_since

DEFAULT_METRICS = "cpu,mem,mem_limit,net_rx,net_tx,blk_read,blk_write,pids"
MAX_SPAN_DAYS = 400


class SeriesQuerySerializer(serializers.Serializer):
    """`metrics/?container=|host=&metric=&since=&until=&step=`"""

    container = serializers.IntegerField(required=False, min_value=1)
    host = serializers.IntegerField(required=False, min_value=1)
    metric = serializers.CharField(required=False, default=DEFAULT_METRICS, help_text="comma-separated metric names")
    since = serializers.CharField(required=False, default="1h", help_text="15m, 24h, 30d or an ISO 8601 time")
    until = serializers.CharField(required=False, help_text="an ISO 8601 time (default: now)")
    step = serializers.CharField(required=False, help_text="seconds, or 5m / 1h")

    def validate_metric(self, value):
        names = [m.strip() for m in value.split(",") if m.strip()]
        unknown = [m for m in names if m not in ALL_NAMES]
        if not names or unknown:
            raise serializers.ValidationError(f"unknown metric {', '.join(unknown) or '(none)'}; known: {', '.join(ALL_NAMES)}")
        return names[:20]

    def validate_since(self, value):
        try:
            return parse_since(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_until(self, value):
        try:
            return parse_since(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_step(self, value):
        try:
            step = parse_duration(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        if not 1 <= step <= 86400:
            raise serializers.ValidationError("between 1 s and 1 d")
        return step

    def validate(self, attrs):
        if attrs.get("container") and attrs.get("host"):
            raise serializers.ValidationError({"host": ["give either container or host, not both"]})
        until = attrs.get("until") or timezone.now()
        if attrs["since"] >= until:
            raise serializers.ValidationError({"since": ["must be before until"]})
        if (until - attrs["since"]).days > MAX_SPAN_DAYS:
            raise serializers.ValidationError({"since": [f"at most {MAX_SPAN_DAYS} days back"]})
        attrs["until"] = until
        return attrs


class ContainerLatestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    host = serializers.IntegerField(source="host_id")
    team = serializers.IntegerField(source="team_id")
    state = serializers.CharField()
    sampled_at = serializers.SerializerMethodField()
    latest = serializers.SerializerMethodField()

    def _sample(self, obj):
        return self.context["latest"].get(obj.pk)

    def get_sampled_at(self, obj):
        sample = self._sample(obj)
        return sample.ts.isoformat() if sample else None

    def get_latest(self, obj):
        from ..metrics import STORED

        sample = self._sample(obj)
        if sample is None:
            return {}
        return {m: getattr(sample, m) for m in STORED if getattr(sample, m) is not None}
