"""Rule and silence checks shared by the page forms, the API serializers and the admin:
returns {field: message} (empty when valid), never raises on odd input."""

from __future__ import annotations

import re

from .models import AlertRule

MAX_SELECTOR = 20


def selector_errors(selector) -> str | None:
    if not isinstance(selector, dict):
        return 'Use an object of label names to values, e.g. {"app": "web"}.'
    if len(selector) > MAX_SELECTOR:
        return f"At most {MAX_SELECTOR} labels."
    for k, v in selector.items():
        if not isinstance(k, str) or not k.strip() or len(k) > 200 or not isinstance(v, str) or len(v) > 500:
            return "Label names must be non-empty text and values text (\"\" matches any value)."
    return None


def parse_selector(text: str) -> dict:
    """'app=web, tier' -> {"app": "web", "tier": ""} (the page form's notation)."""
    out = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, _, value = part.partition("=")
        if not key.strip():
            raise ValueError(f"{part[:50]!r}: a label name is missing.")
        out[key.strip()] = value.strip()
    return out


def format_selector(selector: dict) -> str:
    return ", ".join(f"{k}={v}" if v else k for k, v in (selector or {}).items())


def rule_errors(d: dict, team=None) -> dict[str, str]:
    """d: the rule's fields (model values or validated serializer data)."""
    errors: dict[str, str] = {}
    kind, scope = d.get("kind"), d.get("scope") or AlertRule.Scope.CONTAINER
    if kind == AlertRule.Kind.METRIC:
        if not d.get("metric"):
            errors["metric"] = "Choose a metric."
        if d.get("threshold") is None:
            errors["threshold"] = "Enter the threshold value."
        if (d.get("hysteresis") or 0) < 0:
            errors["hysteresis"] = "Must be zero or more."
        if d.get("metric") == "host_disk_percent" and scope != AlertRule.Scope.HOST:
            errors["scope"] = "host_disk_percent is a host metric: use the hosts scope."
    elif kind == AlertRule.Kind.EVENT:
        if not d.get("event"):
            errors["event"] = "Choose an event."
        elif d["event"] == AlertRule.EventKind.HOST_DOWN and scope != AlertRule.Scope.HOST:
            errors["scope"] = "Host down is about hosts: use the hosts scope."
        elif d["event"] == AlertRule.EventKind.RESTART_LOOP and not d.get("restart_count"):
            errors["restart_count"] = "At least one restart."
    elif kind == AlertRule.Kind.LOG:
        pattern = d.get("log_pattern") or ""
        if not pattern:
            errors["log_pattern"] = "Enter a regular expression."
        else:
            try:
                re.compile(pattern)
            except re.error as exc:
                errors["log_pattern"] = f"Not a valid regular expression: {exc}"
    elif kind == AlertRule.Kind.TREND:
        if not d.get("trend"):
            errors["trend"] = "Choose a trend."
        if (d.get("fit_seconds") or 0) < 300:
            errors["fit_seconds"] = "Fit at least 300 seconds of history."
    if kind in (AlertRule.Kind.LOG, AlertRule.Kind.TREND) and scope == AlertRule.Scope.HOST:
        errors["scope"] = "Log and trend rules watch containers."
    problem = selector_errors(d.get("label_selector") or {})
    if problem:
        errors["label_selector"] = problem
    elif scope == AlertRule.Scope.LABELS and not d.get("label_selector"):
        errors["label_selector"] = "Give at least one label for the labels scope."
    for name in ("host", "container"):
        obj = d.get(name)
        if obj is not None and team is not None and obj.team_id != team.pk:
            errors[name] = f"Choose a {name} of this team."
    return errors
