"""The per-host collector: one round reads every running container's counters, turns them
into rates against our own previous counters, and bulk-inserts one row per container plus
the host's totals.

How a round reads (measured, see bench/monitoring.py and docs): on a local engine whose
cgroups this process can see, the cgroup files (milliseconds for 100 containers); otherwise
one-shot stats requests issued all at once over a connection pool as large as the round
(about one engine tick, ~1 s, whatever the count). `DOCKERFORGE_METRICS_METHOD=api` forces
the API.

Counter resets: a container that restarted starts its counters from zero. A counter that
went down means a reset: that sample stores no rates (never a negative one) and becomes
the baseline of the next.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

from apps.containers.models import Container
from apps.core.broadcast import object_group
from apps.engine import stats as engine_stats
from apps.engine.errors import EngineError
from apps.hosts.models import DockerHost
from apps.hosts.services import HOLDER, acquire_lease, client_for, release_lease

from .models import CollectorState, Sample

logger = logging.getLogger(__name__)
LEASE_KIND = "collector"
RATE_FIELDS = {  # RawStats counter -> (metric, stored counter column)
    "net_rx": ("net_rx", "net_rx_bytes"),
    "net_tx": ("net_tx", "net_tx_bytes"),
    "blk_read": ("blk_read", "blk_read_bytes"),
    "blk_write": ("blk_write", "blk_write_bytes"),
}
HOST_SUMS = ("cpu", "mem", "net_rx", "net_tx", "blk_read", "blk_write", "pids")


@dataclass
class Previous:
    """The counters of a container's last sample: what the next rates are computed from."""

    at: float
    cpu_ns: int | None
    cpu_periods: int | None
    cpu_throttled_periods: int | None
    net_rx: int | None
    net_tx: int | None
    blk_read: int | None
    blk_write: int | None

    @classmethod
    def from_raw(cls, raw: engine_stats.RawStats) -> Previous:
        return cls(raw.read_at, raw.cpu_ns, raw.cpu_periods, raw.cpu_throttled_periods, raw.net_rx, raw.net_tx, raw.blk_read, raw.blk_write)

    @classmethod
    def from_sample(cls, s: Sample) -> Previous:
        return cls(
            s.ts.timestamp(), s.cpu_ns, s.cpu_periods, s.cpu_throttled_periods,
            s.net_rx_bytes, s.net_tx_bytes, s.blk_read_bytes, s.blk_write_bytes,
        )


def counters_reset(raw: engine_stats.RawStats, prev: Previous) -> bool:
    """Any cumulative counter that went down: the container restarted (or was recreated)."""
    pairs = [(raw.cpu_ns, prev.cpu_ns), (raw.cpu_periods, prev.cpu_periods)]
    pairs += [(getattr(raw, name), getattr(prev, name)) for name in RATE_FIELDS]
    return any(cur is not None and old is not None and cur < old for cur, old in pairs)


def _delta(cur: int | None, old: int | None) -> int | None:
    return None if cur is None or old is None else cur - old


def rates(raw: engine_stats.RawStats, prev: Previous | None, max_gap: float) -> dict[str, float | None]:
    """Per-second rates (and CPU percent of one core) since `prev`; empty when there is no
    usable previous sample (first sample, too old, or counters reset)."""
    if prev is None:
        return {}
    elapsed = raw.read_at - prev.at
    if elapsed <= 0 or elapsed > max_gap or counters_reset(raw, prev):
        return {}
    out: dict[str, float | None] = {}
    cpu = _delta(raw.cpu_ns, prev.cpu_ns)
    out["cpu"] = None if cpu is None else cpu / 1e9 / elapsed * 100
    periods = _delta(raw.cpu_periods, prev.cpu_periods)
    throttled = _delta(raw.cpu_throttled_periods, prev.cpu_throttled_periods)
    if periods is not None and throttled is not None:
        out["cpu_throttled"] = throttled / periods * 100 if periods > 0 else 0.0
    for counter, (metric, _column) in RATE_FIELDS.items():
        delta = _delta(getattr(raw, counter), getattr(prev, counter))
        out[metric] = None if delta is None else delta / elapsed
    return out


def build_sample(container: Container, raw: engine_stats.RawStats, prev: Previous | None, *, host_memory: int | None,
                 max_gap: float, fs_rw: int | None = None) -> Sample:
    values = rates(raw, prev, max_gap)
    sample = Sample(
        host_id=container.host_id,
        container_id=container.pk,
        ts=datetime.fromtimestamp(raw.read_at, tz=UTC),
        cpu_ns=raw.cpu_ns,
        cpu_periods=raw.cpu_periods,
        cpu_throttled_periods=raw.cpu_throttled_periods,
        net_rx_bytes=raw.net_rx,
        net_tx_bytes=raw.net_tx,
        blk_read_bytes=raw.blk_read,
        blk_write_bytes=raw.blk_write,
        mem_usage_total=raw.mem_usage,
        mem=raw.mem_working_set,
        # As `docker stats`: no limit shows the host's memory.
        mem_limit=raw.mem_limit if raw.mem_limit is not None else host_memory,
        pids=raw.pids,
        fs_rw=fs_rw,
        **values,
    )
    return sample


def host_totals(host: DockerHost, samples: list[Sample], running: int, ts: datetime,
                disk: engine_stats.DiskUsage | None) -> Sample:
    row = Sample(host_id=host.pk, container_id=None, ts=ts, running=running, mem_limit=(host.engine_info or {}).get("memory_bytes"))
    for metric in HOST_SUMS:
        values = [getattr(s, metric) for s in samples if getattr(s, metric) is not None]
        setattr(row, metric, sum(values) if values else None)
    if disk is not None:
        row.disk_images, row.disk_containers = disk.images, disk.containers
        row.disk_volumes, row.disk_build_cache = disk.volumes, disk.build_cache
    return row


@dataclass
class RoundResult:
    host_id: int
    method: str
    containers: int
    seconds: float
    samples: list[Sample]
    errors: dict[str, str]


class HostCollector:
    """Collects one host, round after round, remembering the previous counters."""

    def __init__(self, host_id: int):
        self.host_id = host_id
        self.previous: dict[str, Previous] = {}
        self.layout: engine_stats.CgroupLayout | None = None
        self.layout_checked = False
        self.last_disk = 0.0
        self._client = None
        self._pool = 0

    # -- engine access
    def client(self, host: DockerHost, needed: int):
        pool = max(10, min(needed, settings.METRICS_MAX_CONCURRENCY))
        if self._client is None or pool > self._pool:
            self.close()
            self._client, self._pool = client_for(host, pool_size=pool), pool
        return self._client

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    def method(self) -> str:
        if self.layout is None:
            return "api"
        return f"cgroup v{self.layout.version} ({self.layout.driver})"

    def _detect(self, host: DockerHost, ids: list[str]) -> None:
        """Look for the cgroup files once (local engines only), when allowed."""
        if self.layout_checked or not ids:
            return
        self.layout_checked = True
        if settings.METRICS_METHOD == "api" or host.scheme != "unix":
            return
        self.layout = engine_stats.detect_cgroups(ids[0], settings.METRICS_CGROUP_ROOT, settings.METRICS_PROC_ROOT)
        if self.layout is None and settings.METRICS_METHOD == "cgroup":
            logger.warning("host %s: no readable cgroup layout; collecting through the API", host.name)

    def read(self, client, host: DockerHost, ids: list[str]) -> dict[str, engine_stats.RawStats | EngineError]:
        self._detect(host, ids)
        results: dict = {}
        if self.layout is not None:
            results = engine_stats.CgroupReader(self.layout, settings.METRICS_PROC_ROOT).read_many(ids)
        missing = [i for i in ids if not isinstance(results.get(i), engine_stats.RawStats)]
        if missing:  # the API path, or the containers whose cgroup files were unreadable
            results.update(engine_stats.read_api(client, missing, max_workers=settings.METRICS_MAX_CONCURRENCY))
        return results

    # -- one round
    def seed_previous(self, containers: dict[str, Container], max_gap: float) -> None:
        """After a restart of the collector: continue from the stored counters."""
        unknown = {c.pk: docker_id for docker_id, c in containers.items() if docker_id not in self.previous}
        if not unknown:
            return
        since = timezone.now() - timedelta(seconds=max_gap)
        for s in Sample.objects.filter(container_id__in=unknown, ts__gte=since).order_by("ts"):
            self.previous[unknown[s.container_id]] = Previous.from_sample(s)

    def round(self) -> RoundResult:
        started = time.monotonic()
        ts = timezone.now()
        host = DockerHost.objects.get(pk=self.host_id)
        max_gap = settings.METRICS_INTERVAL * 5
        client = self.client(host, 10)
        running = engine_stats.list_running(client)
        rows = Container.objects.filter(host=host, docker_id__in=[r.docker_id for r in running], removed_at__isnull=True)
        containers = {c.docker_id: c for c in rows.only("pk", "host_id", "docker_id", "name")}
        ids = list(containers)
        client = self.client(host, len(ids))
        disk_due = time.monotonic() - self.last_disk >= settings.METRICS_DISK_INTERVAL or not self.last_disk
        with ThreadPoolExecutor(max_workers=1) as side:
            disk_future = side.submit(engine_stats.disk_usage, client) if disk_due else None
            raw = self.read(client, host, ids)
            disk = self._disk_result(disk_future)
        self.seed_previous(containers, max_gap)
        host_memory = (host.engine_info or {}).get("memory_bytes")
        samples, errors = [], {}
        for docker_id, result in raw.items():
            if isinstance(result, EngineError):
                errors[docker_id] = str(result)
                continue
            fs_rw = disk.per_container.get(docker_id) if disk else None
            samples.append(build_sample(containers[docker_id], result, self.previous.get(docker_id), host_memory=host_memory,
                                        max_gap=max_gap, fs_rw=fs_rw))
            self.previous[docker_id] = Previous.from_raw(result)
        for gone in set(self.previous) - set(raw):
            del self.previous[gone]
        totals = host_totals(host, samples, len(running), ts, disk)
        Sample.objects.bulk_create([*samples, totals], batch_size=500)
        seconds = time.monotonic() - started
        self._record_state(host, len(samples), seconds, errors, disk is not None)
        publish_points(host, samples, totals)
        return RoundResult(host.pk, self.method(), len(samples), seconds, samples, errors)

    def _disk_result(self, future) -> engine_stats.DiskUsage | None:
        if future is None:
            return None
        try:
            disk = future.result()
        except EngineError as exc:
            logger.warning("host %s: disk usage failed: %s", self.host_id, exc)
            return None
        self.last_disk = time.monotonic()
        return disk

    def _record_state(self, host: DockerHost, count: int, seconds: float, errors: dict, disk: bool) -> None:
        now = timezone.now()
        fields = {
            "method": self.method(),
            "holder": HOLDER,
            "last_round_at": now,
            "last_round_seconds": seconds,
            "containers": count,
            "last_error": "; ".join(f"{k[:12]}: {v}" for k, v in list(errors.items())[:5])[:2000],
        }
        if disk:
            fields["last_disk_at"] = now
        CollectorState.objects.update_or_create(host=host, defaults=fields)


def point_payload(sample: Sample) -> dict:
    from .metrics import STORED

    values = {m: getattr(sample, m) for m in STORED if getattr(sample, m) is not None}
    return {"type": "points", "ts": sample.ts.timestamp(), "values": values}


def publish_points(host: DockerHost, samples: list[Sample], totals: Sample) -> None:
    """New points to the open charts (/ws/metrics/<kind>/<id>/), one layer call per round."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    messages = [(object_group("metrics.container", s.container_id), point_payload(s)) for s in samples]
    messages.append((object_group("metrics.host", host.pk), point_payload(totals)))

    async def send_all():
        for group, payload in messages:
            await layer.group_send(group, {"type": "push", "payload": payload})

    try:
        async_to_sync(send_all)()
    except Exception:  # noqa: BLE001 - live charts are best effort; the data is stored
        logger.warning("publishing chart points of host %s failed", host.pk, exc_info=True)


# --- running collectors ---------------------------------------------------------------

class CollectorPool:
    """The collectors this process holds leases for (the `run_collectors` command, or one
    round from a Celery task)."""

    def __init__(self, holder: str = HOLDER):
        self.holder = holder
        self.collectors: dict[int, HostCollector] = {}

    def claim(self) -> list[int]:
        held = [h for h in DockerHost.objects.order_by("pk").values_list("pk", flat=True) if acquire_lease(h, LEASE_KIND, self.holder)]
        for lost in set(self.collectors) - set(held):
            self.collectors.pop(lost).close()
        return held

    def round(self, host_ids: list[int] | None = None) -> list[RoundResult]:
        host_ids = self.claim() if host_ids is None else host_ids
        if not host_ids:
            return []
        for pk in host_ids:
            self.collectors.setdefault(pk, HostCollector(pk))
        with ThreadPoolExecutor(max_workers=min(8, len(host_ids))) as pool:
            results = list(pool.map(self._one, host_ids))
        return [r for r in results if r is not None]

    def _one(self, host_id: int) -> RoundResult | None:
        collector = self.collectors[host_id]
        try:
            return collector.round()
        except (EngineError, DockerHost.DoesNotExist) as exc:
            collector.close()
            logger.info("collector of host %s: %s", host_id, exc)
            CollectorState.objects.filter(host_id=host_id).update(last_error=str(exc)[:2000])
            return None
        finally:
            connections.close_all()  # this thread's connections: pool threads come and go

    def release(self) -> None:
        for pk, collector in self.collectors.items():
            collector.close()
            release_lease(pk, LEASE_KIND, self.holder)
        self.collectors.clear()


def run_forever(stop=None, interval: float | None = None) -> None:
    """Round after round, aligned to the interval, until `stop` (a threading.Event) is set."""
    interval = interval or settings.METRICS_INTERVAL
    pool = CollectorPool()
    try:
        while stop is None or not stop.is_set():
            tick = time.monotonic()
            try:
                pool.round()
            except Exception:  # noqa: BLE001 - one bad round must not end the collector
                logger.exception("collector round failed")
            wait = max(0.0, interval - (time.monotonic() - tick))
            if stop is not None:
                stop.wait(wait)
            else:
                time.sleep(wait)
    finally:
        pool.release()
        connections.close_all()
