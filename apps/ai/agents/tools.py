"""Read-only tools the agents call: inspect, logs, events, stats history, scan findings.

Every tool reads (never changes) one container the analysis is about, and returns text that
went through the analysis's Redactor: what a provider sees is as redacted as the prompt."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

MAX_OUTPUT_CHARS = 4000
MAX_TAIL = 500
MAX_MINUTES = 7 * 24 * 60
SEVERITIES = ("unknown", "low", "medium", "high", "critical")
STATS_METRICS = ("cpu", "cpu_throttled", "mem", "mem_percent", "mem_limit", "net_rx", "net_tx", "blk_read", "blk_write", "pids")
INSPECT_SECTIONS = {
    "state": lambda d: {"State": d.get("State"), "RestartCount": d.get("RestartCount")},
    "config": lambda d: {"Image": (d.get("Config") or {}).get("Image"), "Cmd": (d.get("Config") or {}).get("Cmd"),
                         "Entrypoint": (d.get("Config") or {}).get("Entrypoint"), "Env": (d.get("Config") or {}).get("Env"),
                         "Healthcheck": (d.get("Config") or {}).get("Healthcheck"), "Mounts": d.get("Mounts"),
                         "PortBindings": (d.get("HostConfig") or {}).get("PortBindings"),
                         "RestartPolicy": (d.get("HostConfig") or {}).get("RestartPolicy")},
    "limits": lambda d: {k: (d.get("HostConfig") or {}).get(k) for k in ("Memory", "MemorySwap", "MemoryReservation", "NanoCpus",
                                                                         "CpuQuota", "CpuPeriod", "PidsLimit", "OomKillDisable")},
    "security": lambda d: {"User": (d.get("Config") or {}).get("User"),
                           **{k: (d.get("HostConfig") or {}).get(k) for k in ("Privileged", "CapAdd", "CapDrop", "SecurityOpt",
                                                                              "ReadonlyRootfs", "NetworkMode", "PidMode", "Binds")}},
}


class ToolError(Exception):
    """Bad arguments from the model: reported back to it as the tool's output."""


@dataclass
class ToolContext:
    container: object
    redactor: object
    inspect: dict
    window: tuple[datetime, datetime] | None = None  # an alert's metric window, when analysing an alert
    cache: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    schema: dict
    run: Callable[[ToolContext, dict], str]


def _int(args: dict, key: str, default: int, low: int, high: int) -> int:
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ToolError(f"{key} must be a number from {low} to {high}")
    return int(value)


def _choice(args: dict, key: str, default: str, choices) -> str:
    value = args.get(key, default)
    if value not in choices:
        raise ToolError(f"{key} must be one of {', '.join(choices)}")
    return value


def inspect_tool(ctx: ToolContext, args: dict) -> str:
    section = _choice(args, "section", "state", tuple(INSPECT_SECTIONS))
    return json.dumps(INSPECT_SECTIONS[section](ctx.inspect), default=str, indent=1)


def logs_tool(ctx: ToolContext, args: dict) -> str:
    from ..context import log_tail

    tail = _int(args, "tail", 100, 1, MAX_TAIL)
    grep = args.get("grep") or ""
    if not isinstance(grep, str) or len(grep) > 200:
        raise ToolError("grep must be text of at most 200 characters")
    if "logs" not in ctx.cache:  # one bounded read per run
        ctx.cache["logs"] = log_tail(ctx.container)
    lines = ctx.cache["logs"]
    if grep:  # a plain substring: a model's regular expression could take forever
        lines = [line for line in lines if grep.lower() in line.lower()]
    picked = lines[-tail:]
    return "\n".join(picked) if picked else "(no matching log lines)"


def events_tool(ctx: ToolContext, args: dict) -> str:
    from ..context import container_events

    limit = _int(args, "limit", 30, 1, 200)
    rows = container_events(ctx.container, limit)
    return "\n".join(f"{e.occurred_at:%Y-%m-%d %H:%M:%S} {e.kind} ({e.severity}): {e.summary}" for e in rows) or "(no stored events)"


def stats_tool(ctx: ToolContext, args: dict) -> str:
    from apps.monitoring import queries

    metric = _choice(args, "metric", "mem", STATS_METRICS)
    if ctx.window is not None and "minutes" not in args:
        start, end = ctx.window
    else:
        end = timezone.now()
        start = end - timedelta(minutes=_int(args, "minutes", 30, 1, MAX_MINUTES))
    points = queries.series(ctx.container, metric, start, end)
    if not points:
        return f"(no {metric} samples between {start:%H:%M:%S} and {end:%H:%M:%S})"
    step = max(1, len(points) // 20)
    rows = [f"{p[0]:%H:%M:%S} avg {p[1]:.6g} min {p[2]:.6g} max {p[3]:.6g}" for p in points[::step]]
    return (f"{metric} from {start:%Y-%m-%d %H:%M:%S} to {end:%H:%M:%S}: {len(points)} points, "
            f"max {max(p[3] for p in points):.6g}, min {min(p[2] for p in points):.6g}\n" + "\n".join(rows))


def scan_tool(ctx: ToolContext, args: dict) -> str:
    from apps.scans.models import Finding, Scan

    floor = SEVERITIES.index(_choice(args, "min_severity", "medium", SEVERITIES))
    limit = _int(args, "limit", 20, 1, 100)
    image_id = ctx.container.image_id or ctx.inspect.get("Image", "")
    scan = (Scan.objects.filter(team_id=ctx.container.team_id, image_digest=image_id, status=Scan.Status.SUCCEEDED)
            .order_by("-finished_at", "-id").first())
    if scan is None:
        return f"(no finished scan of the container's image {image_id[:19]})"
    rows = (Finding.objects.filter(scan=scan, suppression__isnull=True, severity__in=SEVERITIES[floor:])
            .order_by("-rank", "vulnerability_id")[:limit])
    lines = [f"{f.vulnerability_id} {f.severity} {f.package} {f.version} fixed in {f.fixed_version or '-'}: {f.summary[:120]}" for f in rows]
    return f"Scan {scan.pk} of {scan.image_ref} ({scan.package_count} packages):\n" + ("\n".join(lines) or "(no findings at or above that severity)")


TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("inspect", "The container's inspect document, one section at a time.",
         {"type": "object", "properties": {"section": {"type": "string", "enum": list(INSPECT_SECTIONS)}}, "required": ["section"]}, inspect_tool),
    Tool("logs", "The last lines of the container's log, optionally only lines containing a text.",
         {"type": "object", "properties": {"tail": {"type": "integer", "minimum": 1, "maximum": MAX_TAIL},
                                           "grep": {"type": "string"}}}, logs_tool),
    Tool("events", "The Docker events stored for the container (starts, dies, OOMs, health changes), newest last.",
         {"type": "object", "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 200}}}, events_tool),
    Tool("stats_history", "A metric's history for the container (the alert's window when analysing an alert).",
         {"type": "object", "properties": {"metric": {"type": "string", "enum": list(STATS_METRICS)},
                                           "minutes": {"type": "integer", "minimum": 1, "maximum": MAX_MINUTES}}, "required": ["metric"]}, stats_tool),
    Tool("scan_findings", "Vulnerability findings of the latest scan of the container's image.",
         {"type": "object", "properties": {"min_severity": {"type": "string", "enum": list(SEVERITIES)},
                                           "limit": {"type": "integer", "minimum": 1, "maximum": 100}}}, scan_tool),
)}


def call(ctx: ToolContext, name: str, args: dict) -> str:
    """Run one tool; bad arguments and read failures come back as text the model can act on."""
    tool = TOOLS.get(name)
    if tool is None:
        return f"error: no tool named {name!r}"
    if not isinstance(args, dict):
        return "error: arguments must be an object"
    try:
        text = tool.run(ctx, args)
    except ToolError as exc:
        text = f"error: {exc}"
    except Exception as exc:  # noqa: BLE001 - a failed read is an answer the agent can reason about
        text = f"error: {exc.__class__.__name__}: {str(exc)[:300]}"
    return ctx.redactor.redact(text)[:MAX_OUTPUT_CHARS]
