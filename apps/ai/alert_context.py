"""Alert analyses: the alert's container or host is analysed with the alert itself (rule,
value, evidence) and its metric over the alert's window as one more finding."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from .findings import Evidence, Finding

LEAD_IN = timedelta(minutes=15)  # the metric before the alert started, for contrast


def window(alert) -> tuple[datetime, datetime]:
    start = alert.started_at - max(LEAD_IN, timedelta(seconds=alert.rule.for_seconds))
    return start, alert.resolved_at or timezone.now()


def target_of(alert):
    """(container, host) the alert is about; None for a target that no longer exists."""
    from apps.containers.models import Container
    from apps.hosts.models import DockerHost

    if alert.target_kind == "container":
        return Container.objects.filter(team_id=alert.team_id, pk=alert.target_id).present().first(), None
    return None, DockerHost.objects.filter(team_id=alert.team_id, pk=alert.target_id).first()


def _metric_evidence(alert, target) -> list[Evidence]:
    from apps.monitoring import queries

    metric = alert.rule.metric
    if not metric or metric not in queries.ALL_NAMES:
        return []
    start, end = window(alert)
    points = queries.series(target, metric, start, end)
    if not points:
        return [Evidence(source="metric", text=f"{metric}: no samples between {start:%Y-%m-%d %H:%M} and {end:%H:%M}")]
    peak = max(points, key=lambda p: p[3])
    avg = sum(p[1] for p in points) / len(points)
    return [Evidence(source="metric", text=f"{metric} from {start:%Y-%m-%d %H:%M:%S} to {end:%H:%M:%S}: "
                                           f"avg {avg:.6g}, min {min(p[2] for p in points):.6g}, max {peak[3]:.6g} at {peak[0]:%H:%M:%S}")]


def finding(alert, target) -> Finding:
    rule = alert.rule
    condition = f"{rule.metric} {rule.operator} {rule.threshold}" if rule.metric else rule.get_kind_display()
    evidence = [Evidence(source="alert", text=f"Alert {rule.name!r} ({condition}) {alert.status} since {alert.started_at:%Y-%m-%d %H:%M:%S}"
                                              + (f", value {alert.value:.6g}" if alert.value is not None else ""))]
    evidence += [Evidence(source="alert", text=str(item)[:300]) for item in (alert.evidence or [])[:3]]
    evidence += _metric_evidence(alert, target) if target is not None else []
    return Finding(f"alert.{rule.kind}", rule.severity if rule.severity in ("critical", "warning", "info") else "warning", "alert",
                   f"Alert: {rule.name}", alert.summary or f"The alert rule {rule.name!r} matched {alert.target_name}.",
                   ["Read the findings below for the cause of what the alert measured."], evidence, priority=15)
