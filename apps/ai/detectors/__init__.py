"""Deterministic, offline detectors: inspect, Docker events, metrics and log pattern packs."""

from __future__ import annotations

from ..findings import Finding, rank
from . import events as events_detector
from . import inspect as inspect_detector
from . import logs as logs_detector

GENERIC_EXIT_RULES = {"inspect.exit.1", "inspect.exit.other"}


def run_all(*, inspect: dict, log_lines: list[str], events: list | None = None, metric_findings: list[Finding] | None = None) -> list[Finding]:
    """Every finding for one container, ranked (most likely root cause first)."""
    findings = inspect_detector.detect(inspect or {})
    findings += events_detector.detect(events or [])
    findings += metric_findings or []
    findings += logs_detector.detect(log_lines)
    return rank(findings)
