"""Resource counters of running containers, read two ways (issue 4, monitoring):

- `read_api(client, ids)`: one-shot `GET /containers/{id}/stats` requests issued all at
  once. The engine's stats collector ticks once a second and requests in flight together
  share a tick, so a round costs about one tick whatever the count (the client's connection
  pool must be as large as the round: `connect(..., pool_size=N)`).
- `CgroupReader`: the cgroup files of a local engine (cgroup v1 or v2, cgroupfs or systemd
  layout, found by `detect_cgroups`), plus /proc/<pid>/net/dev for network counters.
  100 containers read in milliseconds; used when the layout is found, else the API.

Every value is a raw cumulative counter or a gauge: rates are the caller's business
(computed from its own previous counters). Memory "usage" is the working set as the docker
CLI shows it: usage minus inactive file cache.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .errors import EngineError, guard

# cgroup v1 reports "no limit" as a page-aligned LONG_MAX.
V1_UNLIMITED = 1 << 62


@dataclass
class RawStats:
    """One container's counters at `read_at` (epoch seconds). None: not available."""

    docker_id: str
    read_at: float
    cpu_ns: int | None = None  # cumulative CPU time
    cpu_periods: int | None = None  # CFS periods (cumulative; only with a CPU quota)
    cpu_throttled_periods: int | None = None
    cpu_throttled_ns: int | None = None
    mem_working_set: int | None = None  # usage minus inactive_file
    mem_usage: int | None = None  # usage including cache (cAdvisor's container_memory_usage_bytes)
    mem_limit: int | None = None  # None: unlimited
    net_rx: int | None = None
    net_tx: int | None = None
    blk_read: int | None = None
    blk_write: int | None = None
    pids: int | None = None


@dataclass
class RunningContainer:
    docker_id: str
    name: str
    image: str
    labels: dict = field(default_factory=dict)


@dataclass
class DiskUsage:
    images: int = 0
    containers: int = 0  # writable layers
    volumes: int = 0
    build_cache: int = 0
    per_container: dict[str, int] = field(default_factory=dict)  # docker id -> writable-layer bytes


def list_running(client) -> list[RunningContainer]:
    with guard(getattr(client.api, "_dockerforge_where", "the engine")):
        rows = client.api.containers(filters={"status": "running"})
    return [
        RunningContainer(r["Id"], (r.get("Names") or ["/"])[0].lstrip("/"), r.get("Image", ""), r.get("Labels") or {})
        for r in rows
    ]


def disk_usage(client) -> DiskUsage:
    """`docker system df`: images, writable layers, volumes and build cache (slow: call rarely)."""
    with guard(getattr(client.api, "_dockerforge_where", "the engine")):
        df = client.api.df()
    usage = DiskUsage()
    usage.images = int(df.get("LayersSize") or 0)
    for c in df.get("Containers") or []:
        size = int(c.get("SizeRw") or 0)
        usage.containers += size
        usage.per_container[c["Id"]] = size
    for v in df.get("Volumes") or []:
        usage.volumes += max(0, int((v.get("UsageData") or {}).get("Size") or 0))
    usage.build_cache = sum(int(b.get("Size") or 0) for b in df.get("BuildCache") or [] if not b.get("Shared"))
    return usage


# --- the API path ----------------------------------------------------------------------

def read_api(client, ids: list[str], *, max_workers: int = 128) -> dict[str, RawStats | EngineError]:
    """One-shot stats of every container, requested concurrently (one tick for the round)."""
    if not ids:
        return {}
    where = getattr(client.api, "_dockerforge_where", "the engine")

    def one(docker_id: str) -> RawStats | EngineError:
        try:
            with guard(where):
                data = client.api.stats(docker_id, stream=False, one_shot=True)
            return parse_api_stats(docker_id, data)
        except EngineError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(ids)))) as pool:
        return dict(zip(ids, pool.map(one, ids), strict=True))


def _engine_time(text: str | None) -> float:
    """The engine's RFC 3339 `read` time (nanoseconds trimmed) as epoch seconds."""
    if not text or text.startswith("0001-"):
        return time.time()
    head, _, frac = text.rstrip("Z").partition(".")
    tz = "+00:00"
    for sign in ("+", "-"):
        if sign in frac:
            frac, _, rest = frac.partition(sign)
            tz = sign + rest
    stamp = f"{head}.{(frac or '0')[:6].ljust(6, '0')}{tz}"
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return time.time()


def parse_api_stats(docker_id: str, data: dict) -> RawStats:
    cpu = data.get("cpu_stats") or {}
    throttling = cpu.get("throttling_data") or {}
    mem = data.get("memory_stats") or {}
    mem_stats = mem.get("stats") or {}
    usage = mem.get("usage")
    inactive = mem_stats.get("total_inactive_file", mem_stats.get("inactive_file"))
    nets = (data.get("networks") or {}).values()
    blk = (data.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    return RawStats(
        docker_id=docker_id,
        read_at=_engine_time(data.get("read")),
        cpu_ns=(cpu.get("cpu_usage") or {}).get("total_usage"),
        cpu_periods=throttling.get("periods"),
        cpu_throttled_periods=throttling.get("throttled_periods"),
        cpu_throttled_ns=throttling.get("throttled_time"),
        mem_working_set=_working_set(usage, inactive),
        mem_usage=usage,
        mem_limit=mem.get("limit"),
        net_rx=sum(n.get("rx_bytes", 0) for n in nets) if nets else None,
        net_tx=sum(n.get("tx_bytes", 0) for n in nets) if nets else None,
        blk_read=sum(e.get("value", 0) for e in blk if str(e.get("op")).lower() == "read"),
        blk_write=sum(e.get("value", 0) for e in blk if str(e.get("op")).lower() == "write"),
        pids=(data.get("pids_stats") or {}).get("current"),
    )


def _working_set(usage: int | None, inactive_file: int | None) -> int | None:
    """As the docker CLI computes it: usage minus inactive file cache (when smaller)."""
    if usage is None:
        return None
    if inactive_file is not None and inactive_file < usage:
        return usage - inactive_file
    return usage


# --- the cgroup path -------------------------------------------------------------------

@dataclass(frozen=True)
class CgroupLayout:
    """Where a container's cgroup lives: `pattern` has `{controller}` (v1) and `{id}`."""

    version: int  # 1 or 2
    driver: str  # "cgroupfs" or "systemd"
    pattern: str

    def path(self, docker_id: str, controller: str = "") -> Path:
        return Path(self.pattern.format(controller=controller, id=docker_id))


def candidate_layouts(root: str) -> list[CgroupLayout]:
    return [
        CgroupLayout(1, "cgroupfs", f"{root}/{{controller}}/docker/{{id}}"),
        CgroupLayout(1, "systemd", f"{root}/{{controller}}/system.slice/docker-{{id}}.scope"),
        CgroupLayout(2, "systemd", f"{root}/system.slice/docker-{{id}}.scope"),
        CgroupLayout(2, "cgroupfs", f"{root}/docker/{{id}}"),
    ]


def detect_cgroups(docker_id: str, root: str = "/sys/fs/cgroup", proc_root: str = "/proc") -> CgroupLayout | None:
    """The layout under which this running container's cgroup is visible, or None (remote
    engine, a worker in its own container, an unknown layout): then use the API."""
    for layout in candidate_layouts(root):
        probe = layout.path(docker_id, "memory") if layout.version == 1 else layout.path(docker_id)
        if (probe / "cgroup.procs").is_file():
            reader = CgroupReader(layout, proc_root)
            try:
                stats = reader.read(docker_id)
            except OSError:
                continue
            if stats.cpu_ns is not None and stats.mem_usage is not None:
                return layout
    return None


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except (FileNotFoundError, PermissionError):
        return None
    if text == "max":
        return None
    return int(text)


def _read_keyed(path: Path) -> dict[str, int]:
    """`key value` lines (cpu.stat, memory.stat)."""
    try:
        lines = path.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return {}
    out = {}
    for line in lines:
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


class CgroupReader:
    def __init__(self, layout: CgroupLayout, proc_root: str = "/proc"):
        self.layout = layout
        self.proc_root = proc_root

    def read_many(self, ids: list[str]) -> dict[str, RawStats | EngineError]:
        out: dict[str, RawStats | EngineError] = {}
        for docker_id in ids:
            try:
                out[docker_id] = self.read(docker_id)
            except OSError as exc:
                out[docker_id] = EngineError(f"cgroup files of {docker_id[:12]} unreadable: {exc}")
        return out

    def read(self, docker_id: str) -> RawStats:
        stats = self._read_v1(docker_id) if self.layout.version == 1 else self._read_v2(docker_id)
        pid = self._first_pid(docker_id)
        if pid is not None:
            stats.net_rx, stats.net_tx = self._net(pid)
        return stats

    def _read_v1(self, docker_id: str) -> RawStats:
        p = self.layout.path
        cpu = _read_keyed(p(docker_id, "cpu") / "cpu.stat")
        mem_stat = _read_keyed(p(docker_id, "memory") / "memory.stat")
        usage = _read_int(p(docker_id, "memory") / "memory.usage_in_bytes")
        limit = _read_int(p(docker_id, "memory") / "memory.limit_in_bytes")
        read, write = self._blkio_v1(p(docker_id, "blkio") / "blkio.throttle.io_service_bytes")
        return RawStats(
            docker_id=docker_id,
            read_at=time.time(),
            cpu_ns=_read_int(p(docker_id, "cpuacct") / "cpuacct.usage"),
            cpu_periods=cpu.get("nr_periods"),
            cpu_throttled_periods=cpu.get("nr_throttled"),
            cpu_throttled_ns=cpu.get("throttled_time"),
            mem_working_set=_working_set(usage, mem_stat.get("total_inactive_file")),
            mem_usage=usage,
            mem_limit=None if limit is None or limit >= V1_UNLIMITED else limit,
            blk_read=read,
            blk_write=write,
            pids=_read_int(p(docker_id, "pids") / "pids.current"),
        )

    def _read_v2(self, docker_id: str) -> RawStats:
        base = self.layout.path(docker_id)
        cpu = _read_keyed(base / "cpu.stat")
        mem_stat = _read_keyed(base / "memory.stat")
        usage = _read_int(base / "memory.current")
        read, write = self._io_v2(base / "io.stat")
        usage_usec = cpu.get("usage_usec")
        throttled_usec = cpu.get("throttled_usec")
        return RawStats(
            docker_id=docker_id,
            read_at=time.time(),
            cpu_ns=None if usage_usec is None else usage_usec * 1000,
            cpu_periods=cpu.get("nr_periods"),
            cpu_throttled_periods=cpu.get("nr_throttled"),
            cpu_throttled_ns=None if throttled_usec is None else throttled_usec * 1000,
            mem_working_set=_working_set(usage, mem_stat.get("inactive_file")),
            mem_usage=usage,
            mem_limit=_read_int(base / "memory.max"),
            blk_read=read,
            blk_write=write,
            pids=_read_int(base / "pids.current"),
        )

    @staticmethod
    def _blkio_v1(path: Path) -> tuple[int | None, int | None]:
        try:
            lines = path.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None, None
        read = write = 0
        for line in lines:
            parts = line.split()
            if len(parts) == 3 and parts[1] in ("Read", "Write"):
                if parts[1] == "Read":
                    read += int(parts[2])
                else:
                    write += int(parts[2])
        return read, write

    @staticmethod
    def _io_v2(path: Path) -> tuple[int | None, int | None]:
        try:
            lines = path.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None, None
        read = write = 0
        for line in lines:
            for pair in line.split()[1:]:
                key, _, value = pair.partition("=")
                if key == "rbytes":
                    read += int(value)
                elif key == "wbytes":
                    write += int(value)
        return read, write

    def _first_pid(self, docker_id: str) -> int | None:
        path = self.layout.path(docker_id, "pids" if self.layout.version == 1 else "") / "cgroup.procs"
        try:
            for line in path.read_text().split():
                return int(line)
        except (FileNotFoundError, PermissionError, ValueError):
            return None
        return None

    def _net(self, pid: int) -> tuple[int | None, int | None]:
        """Sum of the container's interfaces but loopback, from its network namespace."""
        try:
            lines = Path(os.path.join(self.proc_root, str(pid), "net", "dev")).read_text().splitlines()[2:]
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            return None, None
        rx = tx = 0
        for line in lines:
            name, _, rest = line.partition(":")
            if name.strip() == "lo":
                continue
            cols = rest.split()
            rx += int(cols[0])
            tx += int(cols[8])
        return rx, tx
