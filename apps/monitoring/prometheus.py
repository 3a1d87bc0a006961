"""`/metrics`: the Prometheus text format, built per scrape from the latest samples.

Container series use cAdvisor's names and carry `host`, `name`, `image` and
`compose_project` labels, so dashboards written for cAdvisor work unchanged. DockerForge's
own health follows (`dockerforge_*`: broker queue depth, host status, last check and sync,
collector freshness), then every collector later apps registered in
`apps.core.registries.metric_collectors`.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db.models import Max
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from apps.containers.models import Container
from apps.core.registries import metric_collectors
from apps.hosts.models import DockerHost

from .models import CollectorState, Sample
from .queries import latest_by_container

logger = logging.getLogger(__name__)
LABELS = ["host", "name", "image", "compose_project"]

# (family name, help, kind, Sample attribute, scale)
CONTAINER_SERIES = [
    ("container_cpu_usage_seconds_total", "Cumulative CPU time consumed", "counter", "cpu_ns", 1e-9),
    ("container_cpu_cfs_periods_total", "Elapsed enforcement periods", "counter", "cpu_periods", 1),
    ("container_cpu_cfs_throttled_periods_total", "Throttled period intervals", "counter", "cpu_throttled_periods", 1),
    ("container_memory_working_set_bytes", "Current working set (usage minus inactive file)", "gauge", "mem", 1),
    ("container_memory_usage_bytes", "Current memory usage, including all memory regardless of when it was accessed", "gauge", "mem_usage_total", 1),
    ("container_spec_memory_limit_bytes", "Memory limit (the host's memory when unlimited)", "gauge", "mem_limit", 1),
    ("container_network_receive_bytes_total", "Cumulative count of bytes received", "counter", "net_rx_bytes", 1),
    ("container_network_transmit_bytes_total", "Cumulative count of bytes transmitted", "counter", "net_tx_bytes", 1),
    ("container_fs_reads_bytes_total", "Cumulative count of bytes read", "counter", "blk_read_bytes", 1),
    ("container_fs_writes_bytes_total", "Cumulative count of bytes written", "counter", "blk_write_bytes", 1),
    ("container_pids_current", "Number of processes and threads", "gauge", "pids", 1),
]


def _family(name: str, help_text: str, kind: str, labels: list[str]):
    cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
    return cls(name, help_text, labels=labels)


class ContainerCollector:
    """cAdvisor-style series of every present container with a fresh sample."""

    def collect(self):
        containers = {c.pk: c for c in Container.objects.present().select_related("host")}
        latest = latest_by_container(list(containers))
        families = {name: _family(name, help_text, kind, LABELS) for name, help_text, kind, _, _ in CONTAINER_SERIES}
        last_seen = GaugeMetricFamily("container_last_seen", "Last time the container was sampled", labels=LABELS)
        for pk, sample in latest.items():
            c = containers[pk]
            labels = [c.host.name, c.name, c.image, c.compose_project]
            for name, _, _, attr, scale in CONTAINER_SERIES:
                value = getattr(sample, attr)
                if value is not None:
                    families[name].add_metric(labels, value * scale)
            last_seen.add_metric(labels, sample.ts.timestamp())
        yield from families.values()
        yield last_seen


class HealthCollector:
    """DockerForge's own health: hosts, collectors, the broker's queue."""

    def collect(self):
        now = time.time()
        hosts = list(DockerHost.objects.all())
        names = {h.pk: h.name for h in hosts}
        up = GaugeMetricFamily("dockerforge_host_up", "1 when the host's engine answered the last check", labels=["host"])
        checked = GaugeMetricFamily("dockerforge_host_last_check_timestamp_seconds", "Last health check of the host", labels=["host"])
        synced = GaugeMetricFamily("dockerforge_host_last_sync_timestamp_seconds", "Last mirror sync of the host's containers", labels=["host"])
        for h in hosts:
            up.add_metric([h.name], 1.0 if h.status == DockerHost.Status.UP else 0.0)
            if h.last_checked_at:
                checked.add_metric([h.name], h.last_checked_at.timestamp())
        last_syncs = Container.objects.order_by().values("host_id").annotate(at=Max("last_synced_at"))
        for row in last_syncs:
            if row["at"] and row["host_id"] in names:
                synced.add_metric([names[row["host_id"]]], row["at"].timestamp())
        yield from (up, checked, synced)
        yield from self._collectors(names, now)
        yield from self._disk(names)
        depth = queue_depth()
        if depth is not None:
            queue = GaugeMetricFamily("dockerforge_celery_queue_length", "Tasks waiting in the broker", labels=["queue"])
            queue.add_metric(["celery"], depth)
            yield queue

    @staticmethod
    def _collectors(names: dict, now: float):
        ts = GaugeMetricFamily("dockerforge_collector_last_sample_timestamp_seconds", "Last sample round of the host", labels=["host", "method"])
        age = GaugeMetricFamily("dockerforge_collector_last_sample_age_seconds", "Seconds since the host's last sample round", labels=["host", "method"])
        took = GaugeMetricFamily("dockerforge_collector_round_seconds", "Duration of the host's last sample round", labels=["host", "method"])
        count = GaugeMetricFamily("dockerforge_collector_containers", "Containers sampled in the host's last round", labels=["host", "method"])
        for state in CollectorState.objects.filter(host_id__in=names, last_round_at__isnull=False):
            labels = [names[state.host_id], state.method]
            ts.add_metric(labels, state.last_round_at.timestamp())
            age.add_metric(labels, max(0.0, now - state.last_round_at.timestamp()))
            took.add_metric(labels, state.last_round_seconds or 0.0)
            count.add_metric(labels, state.containers)
        return [ts, age, took, count]

    @staticmethod
    def _disk(names: dict):
        disk = GaugeMetricFamily("dockerforge_host_disk_usage_bytes", "Docker disk usage (docker system df)", labels=["host", "kind"])
        for host_id, name in names.items():
            row = (
                Sample.objects.filter(host_id=host_id, container__isnull=True, disk_images__isnull=False)
                .order_by("-ts").values("disk_images", "disk_containers", "disk_volumes", "disk_build_cache").first()
            )
            for key, value in (row or {}).items():
                disk.add_metric([name, key.removeprefix("disk_")], value or 0.0)
        return [disk]


def queue_depth() -> int | None:
    """Messages waiting in Celery's default queue when the broker is Redis."""
    if not settings.REDIS_URL:
        return None
    import redis

    prefix = (settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}).get("global_keyprefix", "")
    try:
        return int(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).llen(f"{prefix}celery"))
    except redis.RedisError:
        return None


class _Guarded:
    """A registered collector that fails is logged and left out, never a failed scrape."""

    def __init__(self, name: str, collector):
        self.name, self.collector = name, collector

    def collect(self):
        try:
            return list(self.collector.collect())
        except Exception:  # noqa: BLE001
            logger.exception("metric collector %s failed", self.name)
            return []


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ContainerCollector())
    registry.register(HealthCollector())
    for name, collector in metric_collectors.items():
        registry.register(_Guarded(name, collector))
    return generate_latest(registry)
