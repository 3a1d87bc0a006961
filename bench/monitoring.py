"""Monitoring figures (issue 4, Measure):

1. One sample round for N running containers (default 100): wall time against
   `docker stats --no-stream` on the same containers (ratio, target <= 0.5), and the
   collector's CPU seconds per round, for both reading paths (cgroup files, one-shot API).
2. Storage: bytes per container-day in each tier, and after rollups.
3. Chart query: 24 h of one container (median ms) with D days (default 30) of data for
   C containers (default 200) bulk-loaded (COPY on PostgreSQL, executemany on SQLite).

Runs alone: `python bench/monitoring.py` (a throw-away SQLite database, or DATABASE_URL).
Sizes: BENCH_CONTAINERS (100), BENCH_LOAD_CONTAINERS (200), BENCH_DAYS (30). The bench's
containers carry the label dockerforge.bench=<run> and are removed at the end.
"""

import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_setup  # noqa: E402

ROUND_CONTAINERS = int(os.environ.get("BENCH_CONTAINERS", 100))
LOAD_CONTAINERS = int(os.environ.get("BENCH_LOAD_CONTAINERS", 200))
DAYS = int(os.environ.get("BENCH_DAYS", 30))
RUN = uuid.uuid4().hex[:8]
LABEL = {"dockerforge.bench": RUN}
SOCKET = "unix:///var/run/docker.sock"


def median_time(fn, repeat: int) -> tuple[float, float]:
    """(median wall seconds, median process CPU seconds) of fn()."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def start_containers(engine, n: int) -> list:
    from concurrent.futures import ThreadPoolExecutor

    def one(i):
        return engine.containers.run("dockerforge/busybox:test", "sleep 3600", detach=True, labels=LABEL, name=f"bench-mon-{RUN}-{i}")

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def round_bench(engine) -> None:
    from django.conf import settings

    from apps.accounts.models import Team
    from apps.containers.models import Container
    from apps.hosts.models import DockerHost
    from apps.monitoring.collector import HostCollector

    info = engine.info()
    team = Team.objects.create(name=f"bench-{RUN}", slug=f"bench-{RUN}")
    host = DockerHost.objects.create(team=team, name="local", url=SOCKET, api_version="1.41", engine_info={"memory_bytes": info["MemTotal"]})
    print(f"starting {ROUND_CONTAINERS} containers ...", flush=True)
    containers = start_containers(engine, ROUND_CONTAINERS)
    try:
        Container.objects.bulk_create([
            Container(team=team, host=host, docker_id=c.id, name=c.name, image="dockerforge/busybox:test", state="running") for c in containers
        ])
        ids = [c.id[:12] for c in containers]
        stats_cli, _ = median_time(lambda: subprocess.run(["docker", "stats", "--no-stream", *ids], check=True, capture_output=True), 3)
        print(f"docker stats --no-stream, {len(ids)} containers: {stats_cli:.2f} s (median of 3)")
        for method in ("api", "auto"):
            settings.METRICS_METHOD = method
            collector = HostCollector(host.pk)
            collector.round()  # warm-up: connections, layout detection, first counters
            wall, cpu = median_time(collector.round, 5)
            label = collector.method()
            print(f"collector round ({label}): {wall:.3f} s wall, {cpu:.3f} s CPU, ratio to docker stats {wall / stats_cli:.3f} "
                  f"(target <= 0.5) {'OK' if wall / stats_cli <= 0.5 else 'MISSED'}")
            collector.close()
    finally:
        for c in containers:
            c.remove(force=True)
        print(f"removed the {len(containers)} bench containers")


# --- storage and the chart query ------------------------------------------------------------

def table_bytes(model) -> int:
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("VACUUM ANALYZE " + table) if not connection.in_atomic_block else None
            cur.execute("SELECT pg_total_relation_size(%s)", [table])
            return cur.fetchone()[0]
        # Table plus its indexes, from SQLite's dbstat (compiled into Python's sqlite3 here).
        cur.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = %s OR name IN (SELECT name FROM sqlite_master WHERE tbl_name = %s AND type = 'index')", [table, table])
        return cur.fetchone()[0] or 0


def bulk_load(model, columns: list[str], rows) -> int:
    """COPY on PostgreSQL, executemany on SQLite: never the ORM row by row."""
    from django.db import connection

    table = model._meta.db_table
    count = 0
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= 20000:
                cur.executemany(sql, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            cur.executemany(sql, chunk)
            count += len(chunk)
    return count


def _stamp(ts: datetime):
    from django.db import connection

    return ts if connection.vendor == "postgresql" else ts.strftime("%Y-%m-%d %H:%M:%S")


def storage_and_query_bench() -> None:
    import random

    from apps.accounts.models import Team
    from apps.containers.models import Container
    from apps.hosts.models import DockerHost
    from apps.monitoring import queries
    from apps.monitoring.metrics import STORED
    from apps.monitoring.models import HourRollup, MinuteRollup, RollupState, Sample

    team = Team.objects.create(name=f"load-{RUN}", slug=f"load-{RUN}")
    host = DockerHost.objects.create(team=team, name="load", url="tcp://127.0.0.1:1")
    rows = Container.objects.bulk_create([
        Container(team=team, host=host, docker_id=f"{i:064x}", name=f"load-{i}") for i in range(LOAD_CONTAINERS)
    ])
    ids = [c.pk for c in rows]
    now = datetime.now(tz=UTC).replace(second=0, microsecond=0)
    rng = random.Random(1)
    # What the tiers hold at steady state: raw for 24 h, 1-minute for 14 days, 1-hour for all.
    container_metrics = ["cpu", "cpu_throttled", "mem", "mem_limit", "net_rx", "net_tx", "blk_read", "blk_write", "pids"]
    raw_cols = ["host_id", "container_id", "ts", "cpu_ns", "cpu_periods", "cpu_throttled_periods", "net_rx_bytes", "net_tx_bytes",
                "blk_read_bytes", "blk_write_bytes", "mem_usage_total", *container_metrics]

    def raw_rows():
        for k in range(8640):
            ts = _stamp(now - timedelta(seconds=10 * k))
            for pk in ids:
                v = rng.random()
                yield (host.pk, pk, ts, k * 10**9, 0, 0, k * 1000, k * 900, k * 10, k * 20, 5 * 10**7,
                       v * 100, 0.0, 4.0e7 + v, 1.0e9, v * 1e4, v * 9e3, v * 10, v * 20, 12.0)

    def rollup_cols():
        cols = ["host_id", "container_id", "bucket"]
        for m in STORED:
            cols += [f"{m}_sum", f"{m}_count", f"{m}_min", f"{m}_max"]
        return cols

    def rollup_rows(buckets: int, step: int, per: int):
        for k in range(buckets):
            ts = _stamp(now - timedelta(seconds=step * (k + 1)))
            for pk in ids:
                v = rng.random()
                values = []
                for m in STORED:
                    if m in container_metrics:
                        values += [v * per, per, v * 0.5, v * 2]
                    else:
                        values += [None, 0, None, None]
                yield (host.pk, pk, ts, *values)

    minute_days = min(DAYS, 14)
    plan = [
        ("raw (24 h)", Sample, raw_cols, raw_rows, 1),
        (f"1-minute ({minute_days} d)", MinuteRollup, rollup_cols(), lambda: rollup_rows(minute_days * 1440, 60, 6), minute_days),
        (f"1-hour ({DAYS} d)", HourRollup, rollup_cols(), lambda: rollup_rows(DAYS * 24, 3600, 360), DAYS),
    ]
    per_day = {}
    for label, model, cols, gen, days in plan:
        started = time.perf_counter()
        n = bulk_load(model, cols, gen())
        size = table_bytes(model)
        per_day[model] = size / (LOAD_CONTAINERS * days)
        print(f"loaded {n:,} {label} rows in {time.perf_counter() - started:.0f} s; "
              f"{size / 2**20:.0f} MiB = {per_day[model] / 1024:.1f} KiB per container-day")
    RollupState.objects.update_or_create(tier="1m", defaults={"watermark": now})
    RollupState.objects.update_or_create(tier="1h", defaults={"watermark": now.replace(minute=0)})
    after = per_day[MinuteRollup] + per_day[HourRollup]
    print(f"storage after rollups: {after / 1024:.1f} KiB per container-day "
          f"(1-minute {per_day[MinuteRollup] / 1024:.1f} KiB kept 14 d, 1-hour {per_day[HourRollup] / 1024:.2f} KiB kept 400 d); "
          f"steady state per container: {(per_day[Sample] + 14 * per_day[MinuteRollup] + 400 * per_day[HourRollup]) / 2**20:.1f} MiB")
    target = Container.objects.get(pk=ids[LOAD_CONTAINERS // 2])
    for label, span in (("24 h", timedelta(hours=24)), ("30 d", timedelta(days=30)), ("1 h", timedelta(hours=1))):
        times = []
        for _ in range(15):
            started = time.perf_counter()
            points = queries.series(target, "cpu", now - span, now)
            times.append((time.perf_counter() - started) * 1000)
        info = queries.series_info(now - span, now, None)
        print(f"chart query, {label} of one container ({info['tier']} tier, {len(points)} points): median {statistics.median(times):.1f} ms")


def main() -> int:
    django_setup()
    import docker

    engine = docker.DockerClient(base_url=SOCKET, version="1.41", timeout=60)
    from django.db import connection

    print(f"database: {connection.vendor}")
    if os.environ.get("BENCH_SKIP_ROUND") != "1":
        round_bench(engine)
    storage_and_query_bench()
    return 0


if __name__ == "__main__":
    sys.exit(main())
