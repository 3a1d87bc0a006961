"""The state machine, silences, inhibition, publishing and the default rules (database,
no engine: samples are stored the way the collector stores them)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts import evaluator, state
from apps.alerts.models import Alert, AlertRule, Silence
from apps.hosts.models import DockerHost

from .conftest import alert_events

pytestmark = pytest.mark.django_db


def open_alerts(rule):
    return list(Alert.objects.open().filter(rule=rule))


def test_new_team_gets_the_default_rules(team):
    names = set(AlertRule.objects.filter(team=team).values_list("name", flat=True))
    assert {"OOM killed", "Restart loop", "Unhealthy for 2 min", "Host down", "Memory above 90 % of limit",
            "Host disk above 90 %"} <= names
    unhealthy = AlertRule.objects.get(team=team, name="Unhealthy for 2 min")
    assert unhealthy.for_seconds == 120 and unhealthy.event == "unhealthy"


def test_data_migration_function_is_idempotent(team):
    from apps.alerts.defaults import create_default_rules

    AlertRule.objects.filter(team=team, name="Host down").update(threshold=1.0)  # an edit survives
    assert create_default_rules(team.pk, AlertRule) == 0
    assert AlertRule.objects.get(team=team, name="Host down").threshold == 1.0


def test_pending_then_firing_then_resolved_with_hysteresis(team, make_container, sample, cpu_rule, django_capture_on_commit_callbacks):
    cpu_rule.for_seconds = 30
    cpu_rule.save()
    c = make_container()
    sample(c, cpu=80.0)
    evaluator.evaluate_rule(cpu_rule)
    (alert,) = open_alerts(cpu_rule)
    assert alert.status == "pending" and alert.value == 80.0
    # Repeated evaluation keeps one alert; after `for` it fires.
    evaluator.evaluate_rule(cpu_rule)
    assert len(open_alerts(cpu_rule)) == 1
    Alert.objects.filter(pk=alert.pk).update(started_at=timezone.now() - timedelta(seconds=31))
    sample(c, cpu=85.0)
    evaluator.evaluate_rule(cpu_rule)
    alert.refresh_from_db()
    assert alert.status == "firing" and alert.fired_at is not None
    assert [e["value"] for e in alert.evidence][-1] == 85.0 and alert.evidence[-1]["threshold"] == 50.0
    # Below the threshold but within the hysteresis band: still firing.
    sample(c, cpu=45.0)
    evaluator.evaluate_rule(cpu_rule)
    alert.refresh_from_db()
    assert alert.status == "firing"
    sample(c, cpu=35.0)
    evaluator.evaluate_rule(cpu_rule)
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolved_at is not None
    kinds = [e.kind for e in alert_events(team)]
    assert kinds == ["alert.pending", "alert.firing", "alert.resolved"]
    data = alert_events(team)[1].payload["data"]
    assert set(data) == {"fingerprint", "rule", "status", "started_at", "resolved_at", "value", "evidence"}
    assert data["rule"] == {"id": cpu_rule.pk, "name": "CPU high"} and data["status"] == "firing"
    # A new breach opens a new alert with the same fingerprint.
    sample(c, cpu=90.0)
    evaluator.evaluate_rule(cpu_rule)
    (again,) = open_alerts(cpu_rule)
    assert again.pk != alert.pk and again.fingerprint == alert.fingerprint


def test_scope_by_labels_and_stopped_containers(team, make_container, sample, cpu_rule):
    cpu_rule.scope, cpu_rule.label_selector = "labels", {"tier": "web"}
    cpu_rule.save()
    web, db = make_container("web", {"tier": "web"}), make_container("db", {"tier": "db"})
    sample(web, cpu=99.0)
    sample(db, cpu=99.0)
    evaluator.evaluate_rule(cpu_rule)
    assert [a.target_name for a in open_alerts(cpu_rule)] == ["web"]
    web.state = "exited"
    web.save()
    evaluator.evaluate_rule(cpu_rule)  # a stopped container's condition no longer holds
    assert open_alerts(cpu_rule) == []


def test_silence_mutes_and_expiry_publishes(team, make_container, sample, cpu_rule):
    c = make_container(labels={"app": "shop"})
    silence = Silence.objects.create(team=team, label_selector={"app": "shop"}, comment="maintenance",
                                     ends_at=timezone.now() + timedelta(hours=1))
    sample(c, cpu=99.0)
    evaluator.evaluate(team_ids=[team.pk])
    (alert,) = open_alerts(cpu_rule)
    assert alert.status == "firing" and alert.suppressed == f"silenced by #{silence.pk}"
    assert alert_events(team) == []
    Silence.objects.filter(pk=silence.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    evaluator.evaluate(team_ids=[team.pk])
    alert.refresh_from_db()
    assert alert.suppressed == ""
    assert [e.kind for e in alert_events(team)] == ["alert.firing"]
    evaluator.evaluate(team_ids=[team.pk])  # published once
    assert len(alert_events(team)) == 1


def test_silence_of_another_rule_does_not_match(team, make_container, sample, cpu_rule):
    other = AlertRule.objects.create(team=team, name="other", kind="metric", metric="mem", threshold=1.0)
    Silence.objects.create(team=team, rule=other, comment="not this", ends_at=timezone.now() + timedelta(hours=1))
    c = make_container()
    sample(c, cpu=99.0)
    evaluator.evaluate_rule(cpu_rule)
    (alert,) = open_alerts(cpu_rule)
    assert alert.suppressed == "" and alert.notified_status == "firing"


def test_down_host_inhibits_its_containers_alerts(team, host, make_container, sample, cpu_rule):
    from apps.hosts.services import ConnectionResult, record

    c = make_container()
    sample(c, cpu=99.0)
    host_rule = AlertRule.objects.get(team=team, name="Host down")
    record(host, ConnectionResult(False, DockerHost.Status.DOWN, "connection refused", False))
    evaluator.evaluate(team_ids=[team.pk])
    host_alert = Alert.objects.open().get(rule=host_rule)
    assert host_alert.status == "firing" and host_alert.target_kind == "host"
    assert "connection refused" in host_alert.evidence[0]["error"]
    # The down host's containers are not evaluated (their data stopped): nothing opens.
    assert not Alert.objects.filter(rule=cpu_rule).exists()
    # An event alert of a container on the down host is held muted.
    from apps.core import events

    oom = AlertRule.objects.get(team=team, name="OOM killed")
    evaluator.on_event(events.envelope("container.oom", team, host=host, target=events.ref("container", c, c.name, {})))
    muted = Alert.objects.get(rule=oom)
    assert muted.status == "firing" and muted.suppressed == "inhibited: host down" and muted.notified_status == ""
    assert [e.payload["data"]["rule"]["name"] for e in alert_events(team, "alert.firing")] == ["Host down"]
    # Back up: the container's alert is evaluated and published, the host alert resolves.
    record(host, ConnectionResult(True, DockerHost.Status.UP, info={"version": "20.10", "api_version": "1.41"}))
    sample(c, cpu=99.0)
    evaluator.evaluate(team_ids=[team.pk])
    host_alert.refresh_from_db()
    assert host_alert.status == "resolved"
    assert Alert.objects.open().get(rule=cpu_rule).notified_status == "firing"


def test_inhibition_mutes_an_already_open_alert(team, host, make_container, sample, cpu_rule):
    c = make_container()
    sample(c, cpu=99.0)
    cpu_rule.for_seconds = 60
    cpu_rule.save()
    evaluator.evaluate_rule(cpu_rule)
    alert = Alert.objects.get(rule=cpu_rule)
    assert alert.notified_status == "pending"
    DockerHost.objects.filter(pk=host.pk).update(status="down")
    Alert.objects.filter(pk=alert.pk).update(started_at=timezone.now() - timedelta(seconds=61))
    evaluator.evaluate(team_ids=[team.pk])
    alert.refresh_from_db()
    assert alert.status == "pending", "no data while the host is down: held, not evaluated"
    assert alert.suppressed == "inhibited: host down"


def test_point_event_alerts_resolve_after_quiet_time(team, make_container):
    from apps.core import events

    rule = AlertRule.objects.get(team=team, name="OOM killed")
    c = make_container()
    envelope = events.envelope("container.oom", team, host=c.host, target=events.ref("container", c, c.name, c.labels),
                               summary="oom", data={"exit_code": None})
    evaluator.on_event(envelope)
    evaluator.on_event(envelope)
    (alert,) = Alert.objects.open().filter(rule=rule)
    assert alert.status == "firing" and len(alert.evidence) == 2
    Alert.objects.filter(pk=alert.pk).update(last_match_at=timezone.now() - timedelta(seconds=rule.resolve_after_seconds + 1))
    evaluator.evaluate_rule(rule)
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_acknowledge_once(team, make_container, make_user, cpu_rule, sample):
    c = make_container()
    sample(c, cpu=99.0)
    evaluator.evaluate_rule(cpu_rule)
    alert = Alert.objects.get(rule=cpu_rule)
    user = make_user(team, "operator")
    assert state.acknowledge(alert, user) is True
    assert state.acknowledge(alert, user) is False
    assert alert.acknowledged_by == user


def test_forecast_and_baseline_math():
    from datetime import UTC, datetime

    from apps.alerts import trends

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    mib = 1024 * 1024
    growing = [(t0 + timedelta(minutes=i), 10 * mib + i * mib) for i in range(30)]  # 1 MiB per minute
    fc = trends.forecast(growing, 69 * mib)
    assert fc.slope == pytest.approx(mib / 60)
    assert fc.seconds_to_limit == pytest.approx(30 * 60, rel=1e-6)  # 39 MiB now, 30 MiB to go
    assert trends.forecast([(t0, 1.0)] * 3, 10.0) is None  # too few points
    assert trends.forecast([(t0 + timedelta(minutes=i), 5.0) for i in range(10)], 10.0).seconds_to_limit is None
    base = trends.baseline([10.0, 11.0, 9.0, 10.0, 10.5, 9.5, 10.0, 11.0, 9.0, 10.0], 40.0)
    assert base.sigmas > 10
    assert trends.baseline([10.0] * 10, 10.5).sigmas < 1  # a flat baseline is floored


def test_forecast_rule_fires_on_growing_memory(team, make_container, sample):
    rule = AlertRule.objects.create(team=team, name="mem forecast", kind="trend", trend="forecast", horizon_seconds=1800)
    c = make_container()
    mib = 1024 * 1024
    for i in range(20):  # 1 MiB per minute, 20 MiB of a 40 MiB limit: full in about 20 min
        sample(c, ago=(19 - i) * 60, mem=float(i * mib + mib), mem_limit=float(40 * mib))
    evaluator.evaluate_rule(rule)
    (alert,) = Alert.objects.open().filter(rule=rule)
    assert 15 * 60 < alert.value < 25 * 60
    assert alert.evidence[0]["limit"] == 40 * mib and "reaches_at" in alert.evidence[0]


def test_anomaly_rule(team, make_container, sample):
    rule = AlertRule.objects.create(team=team, name="cpu odd", kind="trend", trend="anomaly", metric="cpu", sigmas=4.0)
    c = make_container()
    for i in range(15):
        sample(c, ago=(20 - i) * 10, cpu=5.0 + (i % 3))
    evaluator.evaluate_rule(rule)
    assert not Alert.objects.filter(rule=rule).exists()
    sample(c, ago=0, cpu=95.0)
    evaluator.evaluate_rule(rule)
    (alert,) = Alert.objects.open().filter(rule=rule)
    assert alert.value == 95.0 and alert.evidence[0]["sigmas"] > 4


def test_engine_log_timestamps_keep_nanoseconds():
    from apps.alerts.conditions import engine_ns

    a = engine_ns("2026-11-30T09:00:01.000000005Z")
    assert a == engine_ns("2026-11-30T09:00:01.000000004Z") + 1
    assert engine_ns("2026-11-30T09:00:01Z") == a - 5 and engine_ns("") is None and engine_ns("garbage") is None
