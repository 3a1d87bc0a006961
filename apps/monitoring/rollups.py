"""Rollups (raw -> 1 minute -> 1 hour) and retention per tier.

Each tier keeps a watermark: every bucket before it is written. A run aggregates the
complete buckets after the watermark (raw samples younger than METRICS_ROLLUP_LAG may still
arrive and wait for the next run), inserts them in bulk and moves the watermark with a
conditional UPDATE in the same transaction: two runs at once never write a bucket twice.
The hour tier is rolled up from the minute tier (sum of sums, sum of counts, min of mins,
max of maxes), which equals rolling up the raw samples directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from .metrics import AGGREGATES, STORED
from .models import CollectorState, HourRollup, MinuteRollup, RollupState, Sample


class WatermarkMoved(Exception):
    """Another run rolled up the same buckets first."""


@dataclass(frozen=True)
class Tier:
    name: str
    model: type
    resolution: int  # seconds
    source: type  # the model it is computed from
    trunc: str  # Trunc kind for the bucket


MINUTE = Tier("1m", MinuteRollup, 60, Sample, "minute")
HOUR = Tier("1h", HourRollup, 3600, MinuteRollup, "hour")
TIERS = (MINUTE, HOUR)


def floor_time(moment: datetime, seconds: int) -> datetime:
    epoch = int(moment.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, tz=UTC)


def _time_field(model) -> str:
    return "ts" if model is Sample else "bucket"


def _aggregates(source) -> dict:
    """ORM aggregate expressions that produce one tier row's sum/count/min/max columns."""
    out = {}
    for metric in STORED:
        if source is Sample:
            out.update({
                f"{metric}_sum": Sum(metric), f"{metric}_count": Count(metric),
                f"{metric}_min": Min(metric), f"{metric}_max": Max(metric),
            })
        else:
            out.update({
                f"{metric}_sum": Sum(f"{metric}_sum"), f"{metric}_count": Sum(f"{metric}_count"),
                f"{metric}_min": Min(f"{metric}_min"), f"{metric}_max": Max(f"{metric}_max"),
            })
    return out


def aggregate(tier: Tier, start: datetime, end: datetime) -> list:
    """The tier's rows for [start, end), computed from its source (not saved)."""
    field = _time_field(tier.source)
    rows = (
        tier.source.objects.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        .annotate(b=Trunc(field, tier.trunc, tzinfo=UTC))
        .order_by()
        .values("host_id", "container_id", "b")
        .annotate(**_aggregates(tier.source))
    )
    out = []
    for row in rows:
        values = {k: v for k, v in row.items() if k not in ("b",)}
        for metric in STORED:  # Sum over zero rows is NULL: a count of 0
            values[f"{metric}_count"] = values[f"{metric}_count"] or 0
        out.append(tier.model(bucket=row["b"], **values))
    return out


def _start_for(tier: Tier) -> datetime | None:
    """Where a tier without a watermark starts: its source's oldest data."""
    field = _time_field(tier.source)
    first = tier.source.objects.order_by(field).values_list(field, flat=True).first()
    return None if first is None else floor_time(first, tier.resolution)


def _ready_until(tier: Tier, now: datetime) -> datetime:
    """The end of the last complete bucket whose source data is all in."""
    if tier.source is Sample:
        return floor_time(now - timedelta(seconds=settings.METRICS_ROLLUP_LAG), tier.resolution)
    source_mark = RollupState.objects.filter(tier=MINUTE.name).values_list("watermark", flat=True).first()
    return floor_time(source_mark, tier.resolution) if source_mark else datetime.min.replace(tzinfo=UTC)


def roll_up(tier: Tier, now: datetime | None = None, max_buckets: int = 24 * 60) -> tuple[int, bool]:
    """Roll up the complete buckets after the watermark (at most `max_buckets` of them).

    Returns (rows written, whether the watermark moved)."""
    now = now or timezone.now()
    state = RollupState.objects.filter(tier=tier.name).first()
    start = state.watermark if state else _start_for(tier)
    if start is None:
        return 0, False
    end = min(_ready_until(tier, now), start + timedelta(seconds=tier.resolution * max_buckets))
    if end <= start:
        return 0, False
    rows = aggregate(tier, start, end)
    try:
        with transaction.atomic():
            if state is None:
                _, created = RollupState.objects.get_or_create(tier=tier.name, defaults={"watermark": end})
                if not created:
                    raise WatermarkMoved
            elif not RollupState.objects.filter(tier=tier.name, watermark=start).update(watermark=end):
                raise WatermarkMoved
            tier.model.objects.bulk_create(rows, batch_size=500)
    except WatermarkMoved:
        return 0, False
    return len(rows), True


def roll_up_all(now: datetime | None = None) -> dict[str, int]:
    """Every tier, catching up chunk by chunk until its watermark reaches the present."""
    out = {}
    for tier in TIERS:
        total, moved = 0, True
        while moved:
            written, moved = roll_up(tier, now)
            total += written
        out[tier.name] = total
    return out


# --- retention ----------------------------------------------------------------------------

def retention() -> dict[type, timedelta]:
    return {
        Sample: timedelta(hours=settings.METRICS_RAW_RETENTION_HOURS),
        MinuteRollup: timedelta(days=settings.METRICS_MINUTE_RETENTION_DAYS),
        HourRollup: timedelta(days=settings.METRICS_HOUR_RETENTION_DAYS),
    }


def prune_batches(queryset, batch_size: int) -> int:
    """Delete in batches by primary key, so a big backlog never holds a long write lock.

    `_raw_delete`: one DELETE per batch. The ORM's delete() would load every row to send
    delete signals (the audit receivers listen to all models); samples have none to send.
    """
    model = queryset.model
    total = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return total
        total += model.objects.filter(pk__in=ids)._raw_delete(model.objects.db)


def prune(now: datetime | None = None) -> dict[str, int]:
    """Expired rows of every tier, and every row of hosts that were deleted."""
    from apps.hosts.models import DockerHost

    now = now or timezone.now()
    batch = settings.METRICS_PRUNE_BATCH
    out = {}
    for model, keep in retention().items():
        field = _time_field(model)
        out[model._meta.model_name] = prune_batches(model.objects.filter(**{f"{field}__lt": now - keep}), batch)
    # A deleted host leaves its collector state behind (no cascade): it names the rows to drop.
    gone = list(CollectorState.objects.exclude(host_id__in=DockerHost.objects.values("pk")).values_list("host_id", flat=True))
    for host_id in gone:
        for model in retention():
            out[model._meta.model_name] += prune_batches(model.objects.filter(host_id=host_id), batch)
    CollectorState.objects.filter(host_id__in=gone).delete()
    return out


__all__ = ["AGGREGATES", "HOUR", "MINUTE", "TIERS", "aggregate", "prune", "roll_up", "roll_up_all"]
