"""monitor: top (running containers by their latest CPU or memory sample) and metrics
CONTAINER (a metric's history, from the tier the range needs)."""

from __future__ import annotations

from datetime import UTC, datetime

from .. import resolve
from ..completion import container_names
from ..context import Ctx
from ..output import Column, human_size, relative_time

SORT_KEYS = {"cpu": "cpu", "mem": "mem"}


def _latest(row: dict, metric: str):
    return (row.get("latest") or {}).get(metric)


def _percent(value) -> str:
    return "-" if value is None else f"{float(value):.1f}%"


def _mem_percent(row: dict) -> str:
    mem, limit = _latest(row, "mem"), _latest(row, "mem_limit")
    return _percent(mem / limit * 100) if mem is not None and limit else "-"


def _rate(value) -> str:
    return "-" if value is None else f"{human_size(value)}/s"


TOP_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("NAME", lambda r: r["name"], style="bold", no_wrap=True),
    Column("CPU", lambda r: _percent(_latest(r, "cpu")), justify="right", no_wrap=True),
    Column("MEM", lambda r: human_size(_latest(r, "mem")), justify="right", no_wrap=True),
    Column("MEM %", _mem_percent, justify="right", no_wrap=True),
    Column("NET IN", lambda r: _rate(_latest(r, "net_rx")), justify="right", no_wrap=True),
    Column("NET OUT", lambda r: _rate(_latest(r, "net_tx")), justify="right", no_wrap=True),
    Column("PIDS", lambda r: _latest(r, "pids"), justify="right", no_wrap=True),
    Column("HOST", lambda r: r.get("host"), justify="right"),
    Column("SAMPLED", lambda r: relative_time(r.get("sampled_at")), no_wrap=True),
]


def top(ctx: Ctx) -> int:
    a = ctx.args
    rows = ctx.client.list("metrics/", {"state": "running", **ctx.team_param()})
    if a.host:
        host = resolve.host_id(ctx, a.host)
        rows = [r for r in rows if r.get("host") == host]
    key = SORT_KEYS[a.by]
    # Containers not sampled yet sort last, not first.
    rows.sort(key=lambda r: (_latest(r, key) is not None, _latest(r, key) or 0), reverse=True)
    rows = rows[: a.limit]
    empty = "No running containers (or none sampled yet: the collector samples every few seconds)."
    ctx.out.json(rows) if ctx.json else ctx.out.table(TOP_COLUMNS, rows, empty=empty)
    return 0


def format_value(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "percent":
        return _percent(value)
    if unit == "bytes":
        return human_size(value)
    if unit == "bytes/s":
        return _rate(value)
    return f"{float(value):g}"


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _series_columns(unit: str) -> list[Column]:
    return [
        Column("TIME", lambda p: _time(p[0]), no_wrap=True),
        Column("AVG", lambda p: format_value(p[1], unit), justify="right", no_wrap=True),
        Column("MIN", lambda p: format_value(p[2], unit), justify="right", no_wrap=True),
        Column("MAX", lambda p: format_value(p[3], unit), justify="right", no_wrap=True),
    ]


def metrics(ctx: Ctx) -> int:
    a = ctx.args
    container = resolve.container(ctx, a.container)
    data = ctx.client.get("metrics/", {"container": container["id"], "metric": a.metric, "since": a.since,
                                       "until": a.until, "step": a.step})
    if ctx.json:
        ctx.out.json(data)
        return 0
    for metric, points in (data.get("series") or {}).items():
        unit = (data.get("units") or {}).get(metric, "")
        values = [p[1] for p in points if p[1] is not None]
        summary = (f"avg {format_value(sum(values) / len(values), unit)}, max {format_value(max(values), unit)}"
                   if values else "no samples in this range")
        ctx.out.text(f"{container['name']} {metric} since {a.since}: {summary}", style="bold")
        sampled = [p for p in points if p[1] is not None]
        if sampled:
            ctx.out.table(_series_columns(unit), sampled)
    return 0


def register(sub, add) -> None:
    group = add(sub, "monitor", None, "Metrics: top, metrics CONTAINER")
    msub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add(msub, "top", top, "Running containers by their latest CPU or memory use")
    p.add_argument("--by", choices=tuple(SORT_KEYS), default="cpu", help="Sort key (default cpu)")
    p.add_argument("--host", help="Only this host (name or id)")
    p.add_argument("--team", help="Team id")
    p.add_argument("-n", "--limit", type=int, default=20, help="Rows to show (default 20)")
    p = add(msub, "metrics", metrics, "A container's metric history")
    p.add_argument("container", metavar="CONTAINER").completer = container_names
    p.add_argument("--metric", default="cpu", help="Comma-separated: cpu, mem, mem_percent, net_rx, net_tx, "
                                                   "blk_read, blk_write, pids, ... (default cpu)")
    p.add_argument("--since", default="15m", help="15m, 24h, 30d or an ISO 8601 time (default 15m)")
    p.add_argument("--until", help="An ISO 8601 time (default now)")
    p.add_argument("--step", help="Bucket width: seconds, or 5m / 1h")
    p.add_argument("--host", help="Host name or id, when names repeat")
