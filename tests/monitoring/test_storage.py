"""Rollups match the raw data (recomputed here), retention prunes only expired rows, the
query API picks tiers and derives values; rates never go negative."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from apps.containers.models import Container
from apps.engine.stats import RawStats
from apps.hosts.models import DockerHost
from apps.monitoring import queries, rollups
from apps.monitoring.collector import Previous, rates
from apps.monitoring.metrics import STORED
from apps.monitoring.models import CollectorState, HourRollup, MinuteRollup, RollupState, Sample

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 30, 12, 0, 7, tzinfo=UTC)


@pytest.fixture
def target(make_team):
    team = make_team()
    host = DockerHost.objects.create(team=team, name="h", url="tcp://127.0.0.1:1")
    c = Container.objects.create(team=team, host=host, docker_id="a" * 64, name="web")
    return host, c


def load(host, c, start, minutes, every=10, seed=1, gaps=True):
    """Raw samples every `every` s, with random values and (optionally) random gaps."""
    rng = random.Random(seed)
    rows = []
    for i in range(minutes * 60 // every):
        if gaps and rng.random() < 0.15:
            continue  # a missed round: averages must still come out right
        ts = start + timedelta(seconds=i * every)
        rows.append(Sample(host=host, container=c, ts=ts, cpu=rng.uniform(0, 200), mem=rng.randint(1, 10**9),
                           mem_limit=2 * 10**9, net_rx=rng.uniform(0, 1e6), pids=rng.randint(1, 50)))
        rows.append(Sample(host=host, container=None, ts=ts, cpu=rng.uniform(0, 400), running=3))
    Sample.objects.bulk_create(rows, batch_size=1000)


def expected(rows, key):
    """Recompute a tier from raw (ts, value) rows in Python: {(bucket): (sum, count, min, max)}."""
    out = {}
    for ts, v in rows:
        if v is None:
            continue
        b = key(ts)
        s, n, lo, hi = out.get(b, (0.0, 0, v, v))
        out[b] = (s + v, n + 1, min(lo, v), max(hi, v))
    return out


def floor(ts, seconds):
    return datetime.fromtimestamp(int(ts.timestamp()) // seconds * seconds, tz=UTC)


@pytest.mark.parametrize("metric", ["cpu", "mem", "pids"])
def test_rollups_match_the_raw_data(target, settings, metric):
    host, c = target
    settings.METRICS_ROLLUP_LAG = 30
    start = NOW - timedelta(hours=3, minutes=7)
    load(host, c, start, minutes=190)
    result = rollups.roll_up_all(now=NOW)
    assert result["1m"] > 0 and result["1h"] > 0
    raw = list(Sample.objects.filter(container=c).values_list("ts", metric))
    minute_mark = RollupState.objects.get(tier="1m").watermark
    assert minute_mark == floor(NOW - timedelta(seconds=30), 60)
    want_min = expected([r for r in raw if r[0] < minute_mark], lambda ts: floor(ts, 60))
    got_min = {r.bucket: (getattr(r, f"{metric}_sum"), getattr(r, f"{metric}_count"), getattr(r, f"{metric}_min"), getattr(r, f"{metric}_max"))
               for r in MinuteRollup.objects.filter(container=c)}
    assert set(got_min) == set(want_min)
    for bucket, (s, n, lo, hi) in want_min.items():
        assert got_min[bucket][0] == pytest.approx(s) and got_min[bucket][1:] == (n, lo, hi)
    hour_mark = RollupState.objects.get(tier="1h").watermark
    assert hour_mark == floor(minute_mark, 3600)
    want_hour = expected([r for r in raw if r[0] < hour_mark], lambda ts: floor(ts, 3600))
    got_hour = {r.bucket: r for r in HourRollup.objects.filter(container=c)}
    assert set(got_hour) == set(want_hour) and len(want_hour) >= 2
    for bucket, (s, n, lo, hi) in want_hour.items():
        row = got_hour[bucket]
        assert getattr(row, f"{metric}_sum") == pytest.approx(s)
        assert (getattr(row, f"{metric}_count"), getattr(row, f"{metric}_min"), getattr(row, f"{metric}_max")) == (n, lo, hi)
    # Host totals roll up as their own series.
    assert MinuteRollup.objects.filter(host=host, container__isnull=True, running_count__gt=0).exists()


def test_rollup_runs_never_write_a_bucket_twice(target, monkeypatch):
    host, c = target
    load(host, c, NOW - timedelta(minutes=30), minutes=30, gaps=False)
    rollups.roll_up_all(now=NOW)
    count = MinuteRollup.objects.count()
    assert rollups.roll_up_all(now=NOW) == {"1m": 0, "1h": 0}
    # A run that read the watermark, then lost the race to another run, writes nothing.
    mark = RollupState.objects.get(tier="1m").watermark
    RollupState.objects.filter(tier="1m").update(watermark=mark - timedelta(minutes=5))
    real = rollups.aggregate

    def racing(tier, start, end):
        rows = real(tier, start, end)
        RollupState.objects.filter(tier=tier.name).update(watermark=end)  # the other run committed
        return rows

    monkeypatch.setattr(rollups, "aggregate", racing)
    assert rollups.roll_up(rollups.MINUTE, now=NOW) == (0, False)
    assert MinuteRollup.objects.count() == count


def test_retention_prunes_only_expired_rows(target, settings):
    host, c = target
    settings.METRICS_PRUNE_BATCH = 7  # several batches
    now = NOW
    keep_raw, keep_min, keep_hour = timedelta(hours=24), timedelta(days=14), timedelta(days=400)
    fresh = {Sample: now - keep_raw + timedelta(minutes=1), MinuteRollup: now - keep_min + timedelta(minutes=1), HourRollup: now - keep_hour + timedelta(hours=1)}
    old = {Sample: now - keep_raw - timedelta(minutes=1), MinuteRollup: now - keep_min - timedelta(minutes=1), HourRollup: now - keep_hour - timedelta(hours=1)}
    for model in (Sample, MinuteRollup, HourRollup):
        field = "ts" if model is Sample else "bucket"
        rows = [model(host=host, container=c, **{field: when + timedelta(seconds=i)}) for when in (fresh[model], old[model]) for i in range(20)]
        model.objects.bulk_create(rows)
    result = rollups.prune(now=now)
    assert result == {"sample": 20, "minuterollup": 20, "hourrollup": 20}
    for model in (Sample, MinuteRollup, HourRollup):
        field = "ts" if model is Sample else "bucket"
        assert model.objects.count() == 20
        assert not model.objects.filter(**{f"{field}__lt": now - {Sample: keep_raw, MinuteRollup: keep_min, HourRollup: keep_hour}[model]}).exists()


def test_deleting_a_host_leaves_rows_the_pruner_drops(target):
    host, c = target
    Sample.objects.create(host=host, container=c, ts=NOW, cpu=1)
    CollectorState.objects.create(host=host, method="api")
    other = DockerHost.objects.create(team=host.team, name="other", url="tcp://127.0.0.1:1")
    Sample.objects.create(host=other, container=None, ts=NOW, cpu=1)
    host.delete()  # no cascade over samples: one cheap delete
    assert Sample.objects.count() == 2
    rollups.prune(now=NOW)
    assert list(Sample.objects.values_list("host_id", flat=True)) == [other.pk]
    assert not CollectorState.objects.exists()


def test_series_picks_the_tier_and_averages_across_gaps(target, settings):
    host, c = target
    now = datetime.now(tz=UTC)
    load(host, c, now - timedelta(hours=5), minutes=300, seed=3)
    rollups.roll_up_all(now=now)
    raw = list(Sample.objects.filter(container=c).values_list("ts", "cpu"))
    assert queries.pick_level(now - timedelta(minutes=15), now).name == "raw"
    assert queries.pick_level(now - timedelta(hours=24), now).name == "1m"
    assert queries.pick_level(now - timedelta(days=30), now).name == "1h"
    # 15 minutes: raw points as stored.
    points = queries.series(c, "cpu", now - timedelta(minutes=15), now, step=10)
    want = sorted((ts, v) for ts, v in raw if ts >= now - timedelta(minutes=15))
    assert [round(p[1], 6) for p in points] == [round(v, 6) for _, v in want]
    # 4 hours in 10-minute steps from the minute tier (+ the raw tail past its watermark):
    # each point is the mean of the raw samples in its bucket, gaps included.
    start = now - timedelta(hours=4)
    points = queries.series(c, "cpu", start, now, step=600)
    assert queries.series_info(start, now, 600) == {"tier": "1m", "step": 600}
    want = expected([r for r in raw if r[0] >= floor(start, 600)], lambda ts: floor(ts, 600))
    assert len(points) == len(want)
    for ts, avg, lo, hi in points:
        s, n, wlo, whi = want[ts]
        assert avg == pytest.approx(s / n) and (lo, hi) == (wlo, whi)


def test_latest_window_stats_and_derived_percent(target):
    host, c = target
    now = datetime.now(tz=UTC)
    Sample.objects.bulk_create([
        Sample(host=host, container=c, ts=now - timedelta(seconds=s), cpu=v, mem=m, mem_limit=1000)
        for s, v, m in ((25, 10.0, 100), (15, 20.0, 200), (5, 60.0, 500))
    ])
    assert queries.latest(c, "cpu")[1] == 60.0
    assert queries.latest(c, "mem_percent")[1] == pytest.approx(50.0)
    stats = queries.window_stats(c, "cpu", 60)
    assert stats.count == 3 and stats.avg == pytest.approx(30.0) and (stats.min, stats.max) == (10.0, 60.0)
    assert stats.last[1] == 60.0 and stats.stddev == pytest.approx(21.6024, rel=1e-3)
    assert [round(p[1]) for p in queries.series(c, "mem_percent", now - timedelta(minutes=1), now, step=10)] == [10, 20, 50]
    with pytest.raises(queries.UnknownMetric):
        queries.latest(c, "nope")
    # Nothing fresh: a stopped container has no "latest".
    Sample.objects.all().update(ts=now - timedelta(hours=1))
    assert queries.latest(c, "cpu") is None


def test_rates_from_previous_counters_and_resets():
    prev = Previous(at=100.0, cpu_ns=10 * 10**9, cpu_periods=100, cpu_throttled_periods=10, net_rx=1000, net_tx=0, blk_read=0, blk_write=0)
    raw = RawStats("x", read_at=110.0, cpu_ns=15 * 10**9, cpu_periods=200, cpu_throttled_periods=60, net_rx=6000, net_tx=0, blk_read=0, blk_write=0)
    out = rates(raw, prev, max_gap=50)
    assert out["cpu"] == pytest.approx(50.0) and out["cpu_throttled"] == pytest.approx(50.0) and out["net_rx"] == 500
    reset = RawStats("x", read_at=120.0, cpu_ns=10**8, cpu_periods=3, cpu_throttled_periods=0, net_rx=10, net_tx=0, blk_read=0, blk_write=0)
    assert rates(reset, prev, max_gap=50) == {}
    assert rates(raw, prev, max_gap=5) == {}  # too long ago to be a rate of "now"
    assert set(STORED) >= {"cpu", "cpu_throttled", "mem", "mem_limit", "net_rx", "net_tx", "blk_read", "blk_write", "pids"}
