"""Evaluation: the periodic pass (`alerts.evaluate`, every ALERTS_INTERVAL seconds) over
every enabled rule, and the event-driven pass (`on_event`) for event rules as the event
bus delivers container.* and host.* events. Both only call state.observe / transition,
which make repeated and concurrent evaluation converge."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.utils import timezone

from . import conditions, state
from .models import Alert, AlertRule

logger = logging.getLogger(__name__)
Kind, EventKind = AlertRule.Kind, AlertRule.EventKind
POINT_EVENTS = (EventKind.OOM, EventKind.DIED_NONZERO, EventKind.RESTART_LOOP)


@dataclass
class PassResult:
    rules: int = 0
    observations: int = 0
    errors: dict = field(default_factory=dict)


def observations_of(rule: AlertRule) -> list[state.Observation]:
    if rule.kind == Kind.METRIC:
        return conditions.metric_rule(rule)
    if rule.kind == Kind.TREND:
        return conditions.trend_rule(rule)
    if rule.kind == Kind.LOG:
        found, cursors = conditions.log_rule(rule)
        AlertRule.objects.filter(pk=rule.pk).update(cursors=cursors)  # evaluator state, not audited
        return found
    if rule.event == EventKind.UNHEALTHY:
        return conditions.unhealthy_rule(rule)
    if rule.event == EventKind.HOST_DOWN:
        return conditions.host_down_rule(rule)
    return []  # point events arrive through on_event


def evaluate_rule(rule: AlertRule) -> int:
    now = timezone.now()
    found = observations_of(rule)
    for obs in found:
        state.observe(rule, obs, now)
    if rule.kind == Kind.LOG or (rule.kind == Kind.EVENT and rule.event in POINT_EVENTS):
        for alert in conditions.quiet_resolutions(rule, now):
            state.sync_notification(state.transition(alert, Alert.Status.RESOLVED, now))
    return len(found)


def refresh_open(team_ids=None) -> None:
    """Silences that started or expired and hosts that came back change what is muted:
    publish what is now due."""
    qs = Alert.objects.open().select_related("rule", "host")
    if team_ids is not None:
        qs = qs.filter(team_id__in=team_ids)
    for alert in qs:
        state.sync_notification(alert)


def evaluate(team_ids=None) -> PassResult:
    result = PassResult()
    rules = AlertRule.objects.filter(enabled=True).select_related("team")
    if team_ids is not None:
        rules = rules.filter(team_id__in=team_ids)
    for rule in rules:
        result.rules += 1
        try:
            result.observations += evaluate_rule(rule)
        except Exception as exc:  # noqa: BLE001 - one broken rule must not stop the others
            logger.exception("alert rule %s failed", rule.pk)
            result.errors[rule.pk] = str(exc)[:500]
    refresh_open(team_ids)
    return result


def on_event(envelope: dict) -> int:
    """Event rules of the event's team, for one container.* / host.* event."""
    team_id = envelope.get("team")
    if team_id is None:
        return 0
    rules = AlertRule.objects.filter(team_id=team_id, enabled=True, kind=Kind.EVENT)
    count = 0
    for rule in rules:
        if rule.event == EventKind.HOST_DOWN and envelope["kind"] in ("host.down", "host.up"):
            found = conditions.host_down_rule(rule)
        else:
            obs = conditions.event_observation(rule, envelope)
            found = [obs] if obs is not None else []
        for obs in found:
            state.observe(rule, obs)
            count += 1
    if envelope["kind"] in ("host.down", "host.up"):
        refresh_open([team_id])  # the inhibition of that host's containers changed
    return count
