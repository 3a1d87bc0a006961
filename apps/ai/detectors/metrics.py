"""Metric detectors, through a small adapter over the monitoring app's query API.

The adapter answers None when monitoring is not installed, has no samples for the window,
or does not answer, and the detectors then report nothing.
"""

from __future__ import annotations

import logging

from django.apps import apps

from ..findings import Evidence, Finding

logger = logging.getLogger(__name__)
MEMORY_NEAR_LIMIT = 0.9
THROTTLED_PERCENT = 20.0  # monitoring's cpu_throttled is the share of periods throttled, in %


def window_stats(container, metric: str, minutes: int = 30) -> dict | None:
    """{"max", "avg", "min", "count"} of one metric over the last minutes, or None."""
    if not apps.is_installed("apps.monitoring"):
        return None
    try:
        from apps.monitoring import queries  # noqa: PLC0415 - optional app

        stats = queries.window_stats(container, metric, seconds=minutes * 60)
    except Exception:  # noqa: BLE001 - an optional source must not break an analysis
        logger.warning("monitoring window_stats(%s) unavailable", metric, exc_info=True)
        return None
    if not stats.count:
        return None
    return {"max": stats.max, "avg": stats.avg, "min": stats.min, "count": stats.count}


def detect(container, limit_bytes: int) -> list[Finding]:
    findings = []
    memory = window_stats(container, "mem")
    if memory and limit_bytes and (memory.get("max") or 0) >= MEMORY_NEAR_LIMIT * limit_bytes:
        findings.append(Finding("metrics.memory_near_limit", "warning", "oom", "Memory near its limit",
                                f"Memory peaked at {memory['max'] / limit_bytes:.0%} of the limit in the last 30 minutes.",
                                ["Raise the memory limit (with swap) or find what grows."],
                                [Evidence(source="metric", text=f"memory max {int(memory['max'])} B of limit {limit_bytes} B")], priority=40))
    throttled = window_stats(container, "cpu_throttled")
    if throttled and (throttled.get("avg") or 0) >= THROTTLED_PERCENT:
        findings.append(Finding("metrics.cpu_throttled", "warning", "cpu_throttling", "CPU throttled",
                                f"The container was CPU-throttled in {throttled['avg']:.0f} % of its periods in the last 30 minutes.",
                                ["Raise the CPU limit or reduce the work per container."],
                                [Evidence(source="metric", text=f"cpu throttled avg {throttled['avg']:.1f} %")], priority=30))
    return findings
