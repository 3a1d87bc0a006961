"""Live stats of one container, computed as the docker CLI computes them.

The engine's one-shot stats (`stream=False, one_shot=True`) answer at the next collector tick
(up to 1 s) with an empty `precpu_stats`, so CPU % and rates come from our own previous sample
(kept in the cache per container). With none yet, a second sample is taken. History belongs
to the monitoring app; this is the detail page's live view.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from django.core.cache import cache

from apps.engine.errors import guard

CACHE_SECONDS = 120
MIN_GAP = 0.5  # seconds between two samples for a meaningful CPU %
MAX_AGE = 30.0  # an older previous sample would average over too long a time


@dataclass
class Sample:
    """The cumulative counters of one stats answer (what the next sample is compared with)."""

    cpu_total: int
    system_total: int
    online_cpus: int
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    at: float


@dataclass
class Stats:
    cpu_percent: float | None
    memory_used: int
    memory_limit: int
    memory_percent: float | None
    net_rx: int
    net_tx: int
    net_rx_rate: float | None
    net_tx_rate: float | None
    block_read: int
    block_write: int
    pids: int | None
    online_cpus: int

    def as_dict(self) -> dict:
        return asdict(self)


def memory_used(memory_stats: dict) -> int:
    """Usage minus the page cache the kernel can drop, like `docker stats`:
    cgroup v1 subtracts `total_inactive_file`, cgroup v2 `inactive_file`."""
    usage = int(memory_stats.get("usage") or 0)
    detail = memory_stats.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        if key in detail:
            inactive = int(detail[key] or 0)
            return usage - inactive if inactive < usage else usage
    return usage


def block_io(blkio_stats: dict) -> tuple[int, int]:
    read = write = 0
    for entry in (blkio_stats or {}).get("io_service_bytes_recursive") or []:
        op = str(entry.get("op", "")).lower()
        if op == "read":
            read += int(entry.get("value") or 0)
        elif op == "write":
            write += int(entry.get("value") or 0)
    return read, write


def to_sample(raw: dict, at: float) -> Sample:
    cpu = raw.get("cpu_stats") or {}
    usage = cpu.get("cpu_usage") or {}
    networks = raw.get("networks") or {}
    read, write = block_io(raw.get("blkio_stats") or {})
    return Sample(
        cpu_total=int(usage.get("total_usage") or 0),
        system_total=int(cpu.get("system_cpu_usage") or 0),
        online_cpus=int(cpu.get("online_cpus") or len(usage.get("percpu_usage") or []) or 1),
        net_rx=sum(int(n.get("rx_bytes") or 0) for n in networks.values()),
        net_tx=sum(int(n.get("tx_bytes") or 0) for n in networks.values()),
        block_read=read,
        block_write=write,
        at=at,
    )


def compute(raw: dict, current: Sample, previous: Sample | None) -> Stats:
    memory = raw.get("memory_stats") or {}
    used, mem_limit = memory_used(memory), int(memory.get("limit") or 0)
    cpu_percent = rx_rate = tx_rate = None
    if previous is not None:
        cpu_delta = current.cpu_total - previous.cpu_total
        system_delta = current.system_total - previous.system_total
        if system_delta > 0 and cpu_delta >= 0:
            cpu_percent = round(cpu_delta / system_delta * current.online_cpus * 100.0, 2)
        elapsed = current.at - previous.at
        if elapsed > 0:
            rx_rate = max(0.0, (current.net_rx - previous.net_rx) / elapsed)
            tx_rate = max(0.0, (current.net_tx - previous.net_tx) / elapsed)
    return Stats(
        cpu_percent=cpu_percent,
        memory_used=used,
        memory_limit=mem_limit,
        memory_percent=round(used / mem_limit * 100.0, 2) if mem_limit else None,
        net_rx=current.net_rx,
        net_tx=current.net_tx,
        net_rx_rate=rx_rate,
        net_tx_rate=tx_rate,
        block_read=current.block_read,
        block_write=current.block_write,
        pids=(raw.get("pids_stats") or {}).get("current"),
        online_cpus=current.online_cpus,
    )


def _cache_key(container) -> str:
    return f"containers:stats:{container.host_id}:{container.docker_id}"


def one_shot(client, docker_id: str) -> tuple[dict, Sample]:
    where = getattr(client.api, "_dockerforge_where", "the engine")
    with guard(where):
        raw = client.api.stats(docker_id, stream=False, one_shot=True)
    return raw, to_sample(raw, time.time())


def read_stats(container, client=None) -> Stats:
    """Stats now, CPU % against the previous sample (taking a second one if there is none)."""
    from apps.hosts.services import client_for

    client = client or client_for(container.host, timeout=5.0)
    raw, current = one_shot(client, container.docker_id)
    cached = cache.get(_cache_key(container))
    previous = Sample(**cached) if cached else None
    if previous is None or not MIN_GAP <= current.at - previous.at <= MAX_AGE or current.system_total <= previous.system_total:
        previous = current
        raw, current = one_shot(client, container.docker_id)  # the next tick
    cache.set(_cache_key(container), asdict(current), CACHE_SECONDS)
    return compute(raw, current, previous)
