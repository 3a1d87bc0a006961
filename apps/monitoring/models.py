"""Time series in the main database: raw samples and 1-minute / 1-hour rollups.

One wide row per (container, time): every metric of metrics.py is a column, so a round of
100 containers is 100 rows. Host totals are rows with `container` NULL. Rollups keep
sum/count/min/max per metric, so averages stay right across gaps and tiers roll up into
coarser tiers exactly.

Foreign keys carry no database constraint and DO_NOTHING on delete: deleting a host or
purging a container must not make Django load millions of sample rows to cascade; the
retention task prunes rows of objects that are gone.
"""

from django.db import models

from apps.core.querysets import TeamScopedQuerySet

from .metrics import AGGREGATES, STORED


def _series_keys():
    host = models.ForeignKey("hosts.DockerHost", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    container = models.ForeignKey(
        "containers.Container", on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    return host, container


class SeriesRow(models.Model):
    host, container = _series_keys()

    class Meta:
        abstract = True

    def __str__(self):
        target = self.container.name if self.container_id else self.host.name
        return f"{target} @ {self.moment:%Y-%m-%d %H:%M:%S}"


class Sample(SeriesRow):
    """One raw sample: metric values plus the raw cumulative counters the next rate needs."""

    ts = models.DateTimeField()
    cpu_ns = models.BigIntegerField(null=True, blank=True)
    cpu_periods = models.BigIntegerField(null=True, blank=True)
    cpu_throttled_periods = models.BigIntegerField(null=True, blank=True)
    net_rx_bytes = models.BigIntegerField(null=True, blank=True)
    net_tx_bytes = models.BigIntegerField(null=True, blank=True)
    blk_read_bytes = models.BigIntegerField(null=True, blank=True)
    blk_write_bytes = models.BigIntegerField(null=True, blank=True)
    mem_usage_total = models.BigIntegerField(null=True, blank=True, help_text="usage including cache")

    class Meta:
        indexes = [
            models.Index(fields=["container", "ts"], name="sample_container_ts"),
            models.Index(fields=["host", "ts"], condition=models.Q(container__isnull=True), name="sample_host_ts"),
            models.Index(fields=["ts"], name="sample_ts"),
        ]

    @property
    def moment(self):
        return self.ts


for _metric in STORED:
    Sample.add_to_class(_metric, models.FloatField(null=True, blank=True))


class Rollup(SeriesRow):
    bucket = models.DateTimeField(help_text="start of the bucket (UTC)")

    resolution = 0  # seconds; set by each tier

    class Meta:
        abstract = True
        indexes = [
            models.Index(fields=["container", "bucket"], name="%(class)s_container"),
            models.Index(fields=["host", "bucket"], condition=models.Q(container__isnull=True), name="%(class)s_host"),
            models.Index(fields=["bucket"], name="%(class)s_bucket"),
        ]

    @property
    def moment(self):
        return self.bucket


for _metric in STORED:
    for _agg in AGGREGATES:
        field = models.IntegerField(default=0) if _agg == "count" else models.FloatField(null=True, blank=True)
        Rollup.add_to_class(f"{_metric}_{_agg}", field)


class MinuteRollup(Rollup):
    resolution = 60

    class Meta(Rollup.Meta):
        pass


class HourRollup(Rollup):
    resolution = 3600

    class Meta(Rollup.Meta):
        pass


class RollupState(models.Model):
    """How far a tier is rolled up: every bucket before `watermark` is done. Advanced with a
    conditional UPDATE in the transaction that writes the buckets, so concurrent runs never
    write a bucket twice."""

    tier = models.CharField(max_length=10, primary_key=True)
    watermark = models.DateTimeField()

    def __str__(self):
        return f"{self.tier} rolled up to {self.watermark:%Y-%m-%d %H:%M}"


class CollectorStateQuerySet(TeamScopedQuerySet):
    team_field = "host__team"


class CollectorState(models.Model):
    """The last round of a host's collector: what the UI and /metrics report about it."""

    # No cascade: a deleted host's state stays until the retention task dropped its samples.
    host = models.OneToOneField("hosts.DockerHost", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    method = models.CharField(max_length=40, blank=True, help_text="api or cgroup v1/v2 (driver)")
    holder = models.CharField(max_length=200, blank=True)
    last_round_at = models.DateTimeField(null=True, blank=True)
    last_round_seconds = models.FloatField(null=True, blank=True)
    containers = models.IntegerField(default=0)
    last_disk_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = CollectorStateQuerySet.as_manager()

    def __str__(self):
        return f"collector of {self.host.name} ({self.method or 'not started'})"
