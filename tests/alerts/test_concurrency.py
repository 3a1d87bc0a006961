"""No duplicate open alerts, and each status published once, when many evaluators race
(threads with their own connections; PostgreSQL, where writers really run in parallel)."""

import threading

import pytest
from django.db import connection, connections

from apps.alerts import evaluator
from apps.alerts.models import Alert, AlertRule

from .conftest import alert_events

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 8


def race(fn, n=THREADS):
    barrier, errors = threading.Barrier(n), []

    def run():
        try:
            barrier.wait()
            fn()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (the SQLite lane serialises writes)")


def test_concurrent_evaluations_open_one_alert(postgres, team, make_container, sample, cpu_rule):
    c = make_container()
    sample(c, cpu=99.0)
    for _ in range(3):
        race(lambda: evaluator.evaluate_rule(AlertRule.objects.get(pk=cpu_rule.pk)))
    assert Alert.objects.filter(rule=cpu_rule).count() == 1
    assert Alert.objects.open().filter(rule=cpu_rule).count() == 1
    assert [e.kind for e in alert_events(team)] == ["alert.firing"]
    sample(c, cpu=1.0)
    race(lambda: evaluator.evaluate_rule(AlertRule.objects.get(pk=cpu_rule.pk)))
    assert [e.kind for e in alert_events(team)] == ["alert.firing", "alert.resolved"]


def test_concurrent_events_open_one_alert(postgres, team, make_container):
    from apps.core import events

    c = make_container()
    envelope = events.envelope("container.oom", team, host=c.host, target=events.ref("container", c, c.name, {}))
    race(lambda: evaluator.on_event(envelope))
    rule = AlertRule.objects.get(team=team, name="OOM killed")
    (alert,) = Alert.objects.filter(rule=rule)
    assert alert.status == "firing" and len(alert.evidence) >= 1
    assert [e.kind for e in alert_events(team)] == ["alert.firing"]
