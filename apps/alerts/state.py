"""The alert state machine: pending -> firing -> resolved, one open alert per fingerprint.

`observe(rule, observation)` is the only way an evaluation changes alerts. It is safe to
call repeatedly and from concurrent evaluators:
- opening inserts under the partial unique constraint (one open row per fingerprint); the
  loser of a race gets IntegrityError inside a savepoint and continues with the winner's row;
- every transition is a conditional UPDATE on the current status, so it happens once;
- publishing is a conditional UPDATE of `notified_status`, so each status is published once.
Silences and the host-down inhibition mute publishing (the state still moves); when they
end, the next pass publishes the current status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.core import events
from apps.hosts.models import DockerHost

from .models import Alert, AlertRule, Silence, fingerprint

Status = Alert.Status


@dataclass
class Target:
    kind: str  # "container" | "host"
    id: int
    name: str
    host: DockerHost | None
    labels: dict = field(default_factory=dict)

    @classmethod
    def of_container(cls, c) -> Target:
        return cls("container", c.pk, c.name, c.host, c.labels or {})

    @classmethod
    def of_host(cls, h: DockerHost) -> Target:
        return cls("host", h.pk, h.name, h, {})


@dataclass
class Observation:
    """One evaluation of one (rule, target). `active`: the condition holds. `clear`: it is
    far enough from holding to resolve (hysteresis); None means "not active"."""

    target: Target
    active: bool
    value: float | None = None
    evidence: list[dict] = field(default_factory=list)
    summary: str = ""
    clear: bool | None = None

    @property
    def resolves(self) -> bool:
        return not self.active and (self.clear if self.clear is not None else True)


def evidence_max() -> int:
    return getattr(settings, "ALERTS_EVIDENCE_MAX", 20)


def observe(rule: AlertRule, obs: Observation, now: datetime | None = None) -> Alert | None:
    now = now or timezone.now()
    fp = fingerprint(rule.pk, obs.target.kind, obs.target.id)
    alert = Alert.objects.open().filter(fingerprint=fp).first()
    if obs.active:
        alert = _open(rule, obs, fp, now) if alert is None else _still_matching(alert, obs, now)
        if alert.status == Status.PENDING and now - alert.started_at >= timedelta(seconds=rule.for_seconds):
            alert = transition(alert, Status.FIRING, now)
    elif alert is not None and obs.resolves:
        alert = transition(alert, Status.RESOLVED, now)
    if alert is not None:
        sync_notification(alert)
    return alert


def _open(rule: AlertRule, obs: Observation, fp: str, now: datetime) -> Alert:
    firing = rule.for_seconds == 0
    fields = {
        "team_id": rule.team_id, "rule": rule, "fingerprint": fp,
        "status": Status.FIRING if firing else Status.PENDING,
        "target_kind": obs.target.kind, "target_id": obs.target.id, "target_name": obs.target.name[:300],
        "target_labels": obs.target.labels, "host": obs.target.host, "summary": (obs.summary or rule.describe())[:500],
        "value": obs.value, "evidence": obs.evidence[-evidence_max():], "started_at": now, "last_match_at": now,
        "fired_at": now if firing else None,
    }
    for _ in range(3):
        try:
            with transaction.atomic():
                return Alert.objects.create(**fields)
        except IntegrityError:  # another evaluator opened it first: continue with that row
            existing = Alert.objects.open().filter(fingerprint=fp).first()
            if existing is not None:
                return _still_matching(existing, obs, now)
    raise RuntimeError(f"could not open alert {fp}")


def _still_matching(alert: Alert, obs: Observation, now: datetime) -> Alert:
    evidence = (list(alert.evidence or []) + obs.evidence)[-evidence_max():]
    summary = (obs.summary or alert.summary)[:500]
    Alert.objects.filter(pk=alert.pk).update(value=obs.value, evidence=evidence, last_match_at=now, summary=summary)
    alert.value, alert.evidence, alert.last_match_at, alert.summary = obs.value, evidence, now, summary
    return alert


def transition(alert: Alert, status: str, now: datetime | None = None) -> Alert:
    """Move an open alert on, once: a conditional UPDATE on the status it had."""
    now = now or timezone.now()
    stamp = {"fired_at": now} if status == Status.FIRING else {"resolved_at": now}
    Alert.objects.filter(pk=alert.pk, status=alert.status).update(status=status, **stamp)
    alert.refresh_from_db()
    return alert


# --- silences, inhibition, publishing -------------------------------------------------------

def suppression(alert: Alert, now: datetime | None = None) -> str:
    if alert.target_kind == "container" and alert.host_id:
        status = DockerHost.objects.filter(pk=alert.host_id).values_list("status", flat=True).first()
        if status == DockerHost.Status.DOWN:
            return "inhibited: host down"
    for silence in Silence.objects.filter(team_id=alert.team_id).active(now).filter(
        Q(rule__isnull=True) | Q(rule_id=alert.rule_id), Q(host__isnull=True) | Q(host_id=alert.host_id)
    ):
        if silence.matches(alert):
            return f"silenced by #{silence.pk}"
    return ""


def sync_notification(alert: Alert) -> bool:
    """Publish the alert's current status unless muted or already published. Resolutions
    are published only for alerts whose opening was published."""
    reason = suppression(alert)
    if reason != alert.suppressed:
        Alert.objects.filter(pk=alert.pk).update(suppressed=reason)
        alert.suppressed = reason
    if alert.status == Status.RESOLVED:
        if alert.notified_status not in Alert.OPEN:
            return False
    elif reason or alert.notified_status == alert.status:
        return False
    claimed = Alert.objects.filter(pk=alert.pk, notified_status=alert.notified_status).update(notified_status=alert.status)
    if claimed != 1:
        return False  # another evaluator published it
    alert.notified_status = alert.status
    publish(alert)
    return True


def payload(alert: Alert) -> dict:
    return {
        "fingerprint": alert.fingerprint,
        "rule": {"id": alert.rule_id, "name": alert.rule.name},
        "status": alert.status,
        "started_at": alert.started_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "value": alert.value,
        "evidence": alert.evidence,
    }


def publish(alert: Alert) -> dict:
    firing = alert.status == Status.FIRING
    verb = {"pending": "is pending", "firing": "is firing", "resolved": "resolved"}[alert.status]
    return events.publish(
        f"alert.{alert.status}",
        alert.team_id,
        severity=alert.rule.severity if firing else "info",
        host=alert.host,
        target=events.ref(alert.target_kind, alert.target_id, alert.target_name, alert.target_labels),
        summary=f"{alert.rule.name} {verb} for {alert.target_name}: {alert.summary}"[:1000],
        url=reverse("alerts:detail", args=[alert.pk]),
        data=payload(alert),
    )


def acknowledge(alert: Alert, user) -> bool:
    from apps.activity.audit import record_action

    done = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user) == 1
    alert.refresh_from_db()
    if done:
        record_action("alert.ack", alert, {"fingerprint": alert.fingerprint, "status": alert.status})
    return done
