"""The metric names of DockerForge's time series (the public vocabulary of queries.py, the
API's `metric=` and the charts). Every metric is a gauge or a per-second rate computed by the
collector from its own previous raw counters; each is stored per sample and rolled up as
sum/count/min/max per minute and per hour.

Container series (one per container):
  cpu             CPU use, percent of one core (100 = one full core; 250 = 2.5 cores)
  cpu_throttled   percent of CFS periods in which the container was throttled (CPU quota)
  mem             memory working set, bytes (usage minus inactive file, as `docker stats`)
  mem_limit       memory limit, bytes (the host's memory when the container has no limit)
  net_rx, net_tx  network receive / transmit, bytes per second
  blk_read, blk_write   block I/O read / write, bytes per second
  pids            processes and threads
  fs_rw           writable-layer size, bytes (sampled every METRICS_DISK_INTERVAL)
Host series (totals of the host's running containers, plus disk usage):
  cpu, mem, net_rx, net_tx, blk_read, blk_write, pids   sums over running containers
  mem_limit       the host's memory, bytes
  running         running containers
  disk_images, disk_containers, disk_volumes, disk_build_cache   `docker system df`, bytes
Derived (computed at query time, not stored):
  mem_percent     mem / mem_limit * 100
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str  # "percent", "bytes", "bytes/s", "count"
    label: str
    host_only: bool = False


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("cpu", "percent", "CPU"),
        Metric("cpu_throttled", "percent", "CPU throttled"),
        Metric("mem", "bytes", "Memory"),
        Metric("mem_limit", "bytes", "Memory limit"),
        Metric("net_rx", "bytes/s", "Network in"),
        Metric("net_tx", "bytes/s", "Network out"),
        Metric("blk_read", "bytes/s", "Disk read"),
        Metric("blk_write", "bytes/s", "Disk write"),
        Metric("pids", "count", "Processes"),
        Metric("fs_rw", "bytes", "Writable layer"),
        Metric("running", "count", "Running containers", host_only=True),
        Metric("disk_images", "bytes", "Images", host_only=True),
        Metric("disk_containers", "bytes", "Writable layers", host_only=True),
        Metric("disk_volumes", "bytes", "Volumes", host_only=True),
        Metric("disk_build_cache", "bytes", "Build cache", host_only=True),
    )
}
STORED = tuple(METRICS)
DERIVED = {"mem_percent": ("mem", "mem_limit")}
ALL_NAMES = STORED + tuple(DERIVED)
UNITS = {**{m.name: m.unit for m in METRICS.values()}, "mem_percent": "percent"}
AGGREGATES = ("sum", "count", "min", "max")
