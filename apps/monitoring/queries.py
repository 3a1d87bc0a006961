"""Reading the time series: the API the charts, `/api/v1/metrics/`, /metrics and the alerts
app use. Metric names are documented in metrics.py (`cpu`, `mem`, `mem_limit`,
`mem_percent`, `net_rx`, ...). Targets are a Container or a DockerHost (host totals).

- `series(target, metric, start, end=None, step=None) -> list[(ts, avg, min, max)]`
  picks the tier by range (raw up to 2 h, 1-minute up to 3 days, 1-hour beyond; a coarser
  tier also when the range reaches past a finer tier's retention), fills the part after a
  tier's watermark from the finer tier (charts reach "now"), and re-buckets to `step` seconds
  (default: the tier's resolution, coarser when that would give more than MAX_POINTS).
- `latest(target, metric) -> (ts, value) | None`: the newest raw sample (None when older
  than STALE_AFTER intervals: the container is not running or not collected).
- `window_stats(target, metric, seconds) -> WindowStats`: count, avg, min, max, stddev
  (of the points) and the first/last points over the last `seconds`.

Callers authorize first: these functions take objects the user may see.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .metrics import ALL_NAMES, DERIVED
from .models import HourRollup, MinuteRollup, RollupState, Sample

MAX_POINTS = 600
STALE_AFTER = 3  # intervals
RAW_MAX_SPAN = timedelta(hours=2)
MINUTE_MAX_SPAN = timedelta(days=3)

Point = tuple[datetime, float, float, float]  # (ts, avg, min, max)
Agg = tuple[datetime, float, int, float, float]  # (ts, sum, count, min, max)


class UnknownMetric(ValueError):
    pass


@dataclass(frozen=True)
class Level:
    name: str
    model: type
    resolution: int
    finer: Level | None = None


RAW = Level("raw", Sample, 0)
MINUTE = Level("1m", MinuteRollup, 60, RAW)
HOUR = Level("1h", HourRollup, 3600, MINUTE)


def check_metric(metric: str) -> str:
    if metric not in ALL_NAMES:
        raise UnknownMetric(f"Unknown metric {metric!r}; known: {', '.join(ALL_NAMES)}")
    return metric


def _target_filter(target) -> dict:
    from apps.containers.models import Container

    if isinstance(target, Container):
        return {"container_id": target.pk}
    return {"host_id": target.pk, "container__isnull": True}


def pick_level(start: datetime, end: datetime, now: datetime | None = None) -> Level:
    now = now or timezone.now()
    span = end - start
    if span <= RAW_MAX_SPAN and start >= now - timedelta(hours=settings.METRICS_RAW_RETENTION_HOURS):
        return RAW
    if span <= MINUTE_MAX_SPAN and start >= now - timedelta(days=settings.METRICS_MINUTE_RETENTION_DAYS):
        return MINUTE
    return HOUR


def default_step(level: Level, start: datetime, end: datetime) -> int:
    base = level.resolution or settings.METRICS_INTERVAL
    needed = math.ceil((end - start).total_seconds() / MAX_POINTS)
    return max(base, math.ceil(needed / base) * base)


def _watermark(level: Level) -> datetime | None:
    return RollupState.objects.filter(tier=level.name).values_list("watermark", flat=True).first()


def _columns(level: Level, metric: str) -> list[str]:
    if level is RAW:
        return [metric]
    return [f"{metric}_{agg}" for agg in ("sum", "count", "min", "max")]


def _stored_rows(level: Level, filt: dict, metric: str, start: datetime, end: datetime) -> list[Agg]:
    """(ts, sum, count, min, max) of one stored metric, this tier first, then the finer
    tier for what is not rolled up yet."""
    if level is RAW:
        rows = Sample.objects.filter(**filt, ts__gte=start, ts__lt=end, **{f"{metric}__isnull": False})
        return [(ts, v, 1, v, v) for ts, v in rows.order_by("ts").values_list("ts", metric)]
    mark = _watermark(level) or start
    cut = max(start, min(end, mark))
    out: list[Agg] = []
    if cut > start:
        rows = level.model.objects.filter(**filt, bucket__gte=start, bucket__lt=cut, **{f"{metric}_count__gt": 0})
        out = list(rows.order_by("bucket").values_list("bucket", *_columns(level, metric)))
    if end > cut:
        out += _stored_rows(level.finer, filt, metric, cut, end)
    return out


def _derived_rows(level: Level, filt: dict, metric: str, start: datetime, end: datetime) -> list[Agg]:
    """mem_percent = mem / mem_limit, point by point (exact while the limit is constant)."""
    num, den = DERIVED[metric]
    limits = {ts: (s, c, lo, hi) for ts, s, c, lo, hi in _stored_rows(level, filt, den, start, end)}
    out = []
    for ts, s, c, lo, hi in _stored_rows(level, filt, num, start, end):
        limit = limits.get(ts)
        if not limit or not limit[0] or not limit[2] or not limit[3]:
            continue
        avg_limit = limit[0] / limit[1]
        out.append((ts, s / avg_limit * 100, c, lo / limit[3] * 100, hi / limit[2] * 100))
    return out


def _rows(level, filt, metric, start, end) -> list[Agg]:
    if metric in DERIVED:
        return _derived_rows(level, filt, metric, start, end)
    return _stored_rows(level, filt, metric, start, end)


def _rebucket(rows: list[Agg], step: int) -> list[Point]:
    buckets: dict[int, list] = {}
    for ts, s, c, lo, hi in rows:
        key = int(ts.timestamp()) // step * step
        b = buckets.get(key)
        if b is None:
            buckets[key] = [s, c, lo, hi]
        else:
            b[0] += s
            b[1] += c
            b[2] = min(b[2], lo)
            b[3] = max(b[3], hi)
    return [
        (datetime.fromtimestamp(key, tz=UTC), s / c, lo, hi)
        for key, (s, c, lo, hi) in sorted(buckets.items())
        if c
    ]


def series(target, metric: str, start: datetime, end: datetime | None = None, step: int | None = None) -> list[Point]:
    check_metric(metric)
    end = end or timezone.now()
    level = pick_level(start, end)
    step = step or default_step(level, start, end)
    if level is not RAW:  # a step finer than the tier cannot be honoured
        step = max(step, level.resolution)
    start_floor = datetime.fromtimestamp(int(start.timestamp()) // step * step, tz=UTC) if level is not RAW else start
    return _rebucket(_rows(level, _target_filter(target), metric, start_floor, end), step)


def series_info(start: datetime, end: datetime, step: int | None) -> dict:
    """Which tier and step `series` uses for this range (shown by the API)."""
    level = pick_level(start, end)
    step = max(step or default_step(level, start, end), level.resolution)
    return {"tier": level.name, "step": step}


def latest(target, metric: str) -> tuple[datetime, float] | None:
    check_metric(metric)
    since = timezone.now() - timedelta(seconds=settings.METRICS_INTERVAL * STALE_AFTER + 5)
    if metric in DERIVED:
        num, den = DERIVED[metric]
        row = Sample.objects.filter(**_target_filter(target), ts__gte=since).order_by("-ts").values_list("ts", num, den).first()
        if row is None or row[1] is None or not row[2]:
            return None
        return row[0], row[1] / row[2] * 100
    rows = Sample.objects.filter(**_target_filter(target), ts__gte=since, **{f"{metric}__isnull": False})
    return rows.order_by("-ts").values_list("ts", metric).first()


@dataclass(frozen=True)
class WindowStats:
    count: int
    avg: float | None
    min: float | None
    max: float | None
    stddev: float | None
    first: tuple[datetime, float] | None
    last: tuple[datetime, float] | None


def window_stats(target, metric: str, seconds: float) -> WindowStats:
    """Statistics of the last `seconds` (raw samples when the raw tier still holds them)."""
    end = timezone.now()
    points = series(target, metric, end - timedelta(seconds=seconds), end)
    if not points:
        return WindowStats(0, None, None, None, None, None, None)
    avgs = [p[1] for p in points]
    mean = sum(avgs) / len(avgs)
    stddev = math.sqrt(sum((v - mean) ** 2 for v in avgs) / len(avgs))
    return WindowStats(
        len(points), mean, min(p[2] for p in points), max(p[3] for p in points), stddev,
        (points[0][0], points[0][1]), (points[-1][0], points[-1][1]),
    )


def latest_by_container(container_ids) -> dict[int, Sample]:
    """The newest fresh raw sample of each container (one query; for tables and /metrics)."""
    since = timezone.now() - timedelta(seconds=settings.METRICS_INTERVAL * STALE_AFTER + 5)
    out: dict[int, Sample] = {}
    rows = Sample.objects.filter(container_id__in=container_ids, ts__gte=since).order_by("ts")
    for sample in rows:
        out[sample.container_id] = sample
    return out


# --- parsing what people type: "15m", "24h", "30d", ISO times, epoch seconds ------------------

_DURATION = re.compile(r"^(\d+)\s*([smhdw]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValueError("use seconds or a number with s, m, h, d or w (e.g. 15m, 24h, 30d)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """A duration back from now ("1h"), or an ISO 8601 time."""
    now = now or timezone.now()
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("use a duration back from now (15m, 24h, 30d) or an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
