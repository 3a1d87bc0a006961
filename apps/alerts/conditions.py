"""Each rule kind as observations of its targets (periodic evaluation, evaluator.py).

Container targets on a down host are skipped: their data stop while the host is away, and
their open alerts are held (and muted by the inhibition) rather than resolved.
"""

from __future__ import annotations

import logging
import operator as op
import re
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.activity.models import Event
from apps.containers.models import Container
from apps.engine.errors import EngineError
from apps.hosts.models import DockerHost
from apps.monitoring.metrics import UNITS
from apps.monitoring.queries import latest, series

from . import trends
from .hostdisk import disk_percent
from .models import Alert, AlertRule, labels_match
from .state import Observation, Target

logger = logging.getLogger(__name__)
Kind, EventKind = AlertRule.Kind, AlertRule.EventKind
COMPARE = {">": op.gt, ">=": op.ge, "<": op.lt, "<=": op.le}


def setting(name: str, default):
    return getattr(settings, name, default)


# --- targets ---------------------------------------------------------------------------------

def containers_of(rule: AlertRule) -> list[Container]:
    qs = Container.objects.filter(team_id=rule.team_id, removed_at__isnull=True).select_related("host")
    if rule.host_id:
        qs = qs.filter(host_id=rule.host_id)
    if rule.scope == AlertRule.Scope.CONTAINER and rule.container_id:
        qs = qs.filter(pk=rule.container_id)
    rows = list(qs)
    if rule.label_selector:
        rows = [c for c in rows if labels_match(rule.label_selector, c.labels)]
    return rows


def hosts_of(rule: AlertRule) -> list[DockerHost]:
    qs = DockerHost.objects.filter(team_id=rule.team_id)
    return list(qs.filter(pk=rule.host_id) if rule.host_id else qs)


def live_containers(rule: AlertRule) -> list[Container]:
    """Running containers of reachable hosts (the only ones with fresh data)."""
    return [c for c in containers_of(rule) if c.state == Container.State.RUNNING and c.host.status != DockerHost.Status.DOWN]


def idle_containers(rule: AlertRule) -> list[Container]:
    """Containers that are not running on a reachable host: their conditions no longer hold."""
    return [c for c in containers_of(rule) if c.state != Container.State.RUNNING and c.host.status != DockerHost.Status.DOWN]


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat()


# --- metric threshold ------------------------------------------------------------------------

def metric_value(target, metric: str):
    if metric == "host_disk_percent":
        return disk_percent(target) if isinstance(target, DockerHost) else None
    return latest(target, metric)


def metric_observation(rule: AlertRule, target: Target, obj) -> Observation:
    point = metric_value(obj, rule.metric)
    if point is None or rule.threshold is None:
        return Observation(target, False)  # no data: nothing holds
    ts, value = point
    compare = COMPARE[rule.operator]
    active = compare(value, rule.threshold)
    back = rule.threshold - rule.hysteresis if rule.operator in (">", ">=") else rule.threshold + rule.hysteresis
    evidence = [{"at": _iso(ts), "metric": rule.metric, "value": round(value, 3), "operator": rule.operator,
                 "threshold": rule.threshold, "unit": UNITS.get(rule.metric, "percent")}]
    summary = f"{rule.metric} {value:.1f} {rule.operator} {rule.threshold:g}" if active else f"{rule.metric} {value:.1f}"
    return Observation(target, active, value, evidence if active else [], summary, clear=not compare(value, back))


def metric_rule(rule: AlertRule) -> list[Observation]:
    if rule.scope == AlertRule.Scope.HOST:
        return [metric_observation(rule, Target.of_host(h), h) for h in hosts_of(rule)]
    out = [metric_observation(rule, Target.of_container(c), c) for c in live_containers(rule)]
    return out + [Observation(Target.of_container(c), False) for c in idle_containers(rule)]


# --- state-based event rules (unhealthy, host down), evaluated periodically too ---------------

def unhealthy_rule(rule: AlertRule) -> list[Observation]:
    out = []
    for c in containers_of(rule):
        if c.host.status == DockerHost.Status.DOWN:
            continue
        bad = c.state == Container.State.RUNNING and c.health == "unhealthy"
        ev = [{"at": _iso(timezone.now()), "health": c.health, "status": c.status}] if bad else []
        out.append(Observation(Target.of_container(c), bad, None, ev, f"{c.name} is unhealthy" if bad else ""))
    return out


def host_down_rule(rule: AlertRule) -> list[Observation]:
    out = []
    for h in hosts_of(rule):
        down = h.status == DockerHost.Status.DOWN
        ev = [{"at": _iso(h.last_checked_at or timezone.now()), "error": h.last_error[:500]}] if down else []
        out.append(Observation(Target.of_host(h), down, None, ev, f"{h.name} is down: {h.last_error[:200]}" if down else ""))
    return out


# --- point events (OOM, died, restart loop): matched as they arrive ----------------------------

def restart_loop_count(rule: AlertRule, container_id: int, now: datetime | None = None) -> list[Event]:
    since = (now or timezone.now()) - timedelta(seconds=rule.restart_window_seconds)
    return list(Event.objects.filter(kind="container.die", target_kind="container", target_id=str(container_id),
                                     occurred_at__gte=since).order_by("occurred_at"))


def event_observation(rule: AlertRule, envelope: dict) -> Observation | None:
    """The observation an incoming event makes for an event rule, or None if it does not match."""
    kind, data, target = envelope["kind"], envelope.get("data") or {}, envelope.get("target") or {}
    if rule.event == EventKind.HOST_DOWN:
        return None  # state-based: evaluated from the host row (evaluator.on_event)
    if target.get("kind") != "container" or kind not in ("container.oom", "container.die", "container.health_status"):
        return None
    container = Container.objects.filter(pk=target.get("id"), team_id=rule.team_id).select_related("host").first()
    if container is None or not _in_scope(rule, container):
        return None
    at = envelope.get("occurred_at")
    ev = {"at": at, "event": kind, "summary": envelope.get("summary", "")[:300]}
    exit_code = data.get("exit_code")
    if rule.event == EventKind.OOM and kind == "container.oom":
        return Observation(Target.of_container(container), True, None, [ev], f"{container.name} was OOM killed")
    if rule.event == EventKind.DIED_NONZERO and kind == "container.die" and str(exit_code) not in ("None", "0", ""):
        ev["exit_code"] = exit_code
        return Observation(Target.of_container(container), True, float(exit_code), [ev],
                           f"{container.name} exited with code {exit_code}")
    if rule.event == EventKind.RESTART_LOOP and kind == "container.die":
        dies = restart_loop_count(rule, container.pk)
        if len(dies) >= rule.restart_count:
            evidence = [{"at": _iso(e.occurred_at), "event": e.kind, "exit_code": (e.payload.get("data") or {}).get("exit_code")}
                        for e in dies[-10:]]
            return Observation(Target.of_container(container), True, float(len(dies)), evidence,
                               f"{container.name} restarted {len(dies)} times in {rule.restart_window_seconds // 60 or 1} min")
    if rule.event == EventKind.UNHEALTHY and kind == "container.health_status":
        bad = data.get("health") == "unhealthy"
        return Observation(Target.of_container(container), bad, None, [ev] if bad else [], f"{container.name} is unhealthy")
    return None


def _in_scope(rule: AlertRule, container: Container) -> bool:
    if rule.host_id and container.host_id != rule.host_id:
        return False
    if rule.scope == AlertRule.Scope.CONTAINER and rule.container_id and rule.container_id != container.pk:
        return False
    return labels_match(rule.label_selector, container.labels)


def quiet_resolutions(rule: AlertRule, now: datetime | None = None) -> list[Alert]:
    """Open alerts of point-event and log rules with no new match for resolve_after_seconds."""
    cutoff = (now or timezone.now()) - timedelta(seconds=rule.resolve_after_seconds)
    return list(Alert.objects.open().filter(rule=rule, last_match_at__lt=cutoff))


# --- log pattern -------------------------------------------------------------------------------

def engine_ns(ts: str) -> int | None:
    """An engine log timestamp (RFC 3339, nanoseconds) as integer nanoseconds."""
    if not ts:
        return None
    base, _, frac = ts.rstrip("Z").partition(".")
    try:
        seconds = datetime.fromisoformat(base).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None
    return int(seconds) * 1_000_000_000 + int((frac + "000000000")[:9] or 0)


def log_rule(rule: AlertRule) -> tuple[list[Observation], dict]:
    """New lines of each selected running container since its cursor (the engine timestamp
    of the last line read, in nanoseconds: the engine's `since` has whole seconds, so lines
    of that second are read again and dropped here). Bounded per container
    (ALERTS_LOG_MAX_LINES) and per rule (ALERTS_LOG_MAX_CONTAINERS). Returns the new cursors."""
    from apps.containers.logs import LogQuery, read_logs

    pattern = re.compile(rule.log_pattern, re.IGNORECASE)
    cursors = dict(rule.cursors or {})
    out = []
    first_since = int(timezone.now().timestamp()) - setting("ALERTS_INTERVAL", 15)
    for c in live_containers(rule)[: setting("ALERTS_LOG_MAX_CONTAINERS", 20)]:
        cursor = cursors.get(str(c.pk))
        since = cursor // 1_000_000_000 if isinstance(cursor, int) else first_since
        try:
            result = read_logs(c, LogQuery(tail=setting("ALERTS_LOG_MAX_LINES", 500), since=since))
        except EngineError as exc:
            logger.info("log rule %s: %s: %s", rule.pk, c.name, exc)
            continue
        fresh = [(engine_ns(line.ts), line) for line in result.lines]
        fresh = [(ns, line) for ns, line in fresh if not isinstance(cursor, int) or (ns is not None and ns > cursor)]
        stamps = [ns for ns, _ in fresh if ns is not None]
        cursors[str(c.pk)] = max(stamps) if stamps else (cursor if isinstance(cursor, int) else since * 1_000_000_000)
        matches = [line for _, line in fresh if pattern.search(line.plain)]
        if matches:
            evidence = [{"at": m.ts, "line": m.plain[:500]} for m in matches[-5:]]
            out.append(Observation(Target.of_container(c), True, float(len(matches)), evidence,
                                   f"{len(matches)} log line(s) match /{rule.log_pattern}/"[:500]))
    return out, cursors


# --- trends -----------------------------------------------------------------------------------

def container_forecast(container: Container, fit_seconds: int = 3600) -> trends.Forecast | None:
    now = timezone.now()
    points = [(ts, avg) for ts, avg, _lo, _hi in series(container, "mem", now - timedelta(seconds=fit_seconds), now)]
    limit = latest(container, "mem_limit")
    return trends.forecast(points, limit[1] if limit else None)


def forecast_observation(rule: AlertRule, c: Container) -> Observation:
    target = Target.of_container(c)
    fc = container_forecast(c, rule.fit_seconds)
    if fc is None:
        return Observation(target, False)
    active = fc.seconds_to_limit is not None and fc.seconds_to_limit <= rule.horizon_seconds
    if not active:
        return Observation(target, False)
    minutes = fc.seconds_to_limit / 60
    evidence = [{"at": _iso(fc.last_at), "slope_bytes_per_s": round(fc.slope, 2), "fitted_now": round(fc.now_value),
                 "limit": fc.limit, "points": fc.points, "reaches_at": _iso(fc.reaches_at)}]
    return Observation(target, True, fc.seconds_to_limit, evidence, f"memory reaches its limit in {minutes:.0f} min")


FLOORS = {"percent": 1.0, "bytes": 1024 * 1024, "bytes/s": 1024, "count": 1.0}


def anomaly_observation(rule: AlertRule, c: Container) -> Observation:
    target = Target.of_container(c)
    metric = rule.metric or "cpu"
    now = timezone.now()
    points = series(c, metric, now - timedelta(seconds=rule.fit_seconds), now)
    if len(points) < 2:
        return Observation(target, False)
    base = trends.baseline([p[1] for p in points[:-1]], points[-1][1], FLOORS.get(UNITS.get(metric, "count"), 1.0))
    if base is None or base.sigmas <= rule.sigmas:
        return Observation(target, False)
    evidence = [{"at": _iso(points[-1][0]), "metric": metric, "value": round(base.value, 3), "mean": round(base.mean, 3),
                 "spread": round(base.spread, 3), "sigmas": round(base.sigmas, 1), "points": base.points}]
    return Observation(target, True, base.value, evidence, f"{metric} {base.value:.1f} is {base.sigmas:.1f}σ from its mean {base.mean:.1f}")


def trend_rule(rule: AlertRule) -> list[Observation]:
    check = forecast_observation if rule.trend == AlertRule.Trend.FORECAST else anomaly_observation
    out = [check(rule, c) for c in live_containers(rule)]
    return out + [Observation(Target.of_container(c), False) for c in idle_containers(rule)]
