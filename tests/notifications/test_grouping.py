"""Alertmanager semantics from the persistent notification log, rate limits and folding,
routing per event family, quiet hours and digests."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.notifications import services
from apps.notifications.models import Delivery, NotificationGroup, NotificationItem

from .conftest import FakeHost, alert_data

pytestmark = pytest.mark.django_db
WEB1 = FakeHost(7, "web-1")


def fire(publish, team, fp, status="firing", host=WEB1, rule_id=1, severity="critical"):
    kind = "alert.resolved" if status == "resolved" else "alert.firing"
    return publish(kind, team, severity=severity, host=host, summary=f"{fp} {status}", url=f"/alerts/{fp}/",
                   data=alert_data(fp, status=status, rule_id=rule_id))


def restart_worker():
    """What a worker restart loses: every in-process thing (module state, a new worker
    identity). The test database connection stays: it holds the test's transaction."""
    import importlib

    from apps.notifications import services as module

    importlib.reload(module)
    module.HOLDER = f"restarted-{module.HOLDER}"


def test_50_firing_events_one_message_then_one_on_resolution_across_a_restart(team, make_channel, make_route, publish, receiver):
    channel = make_channel(team, "webhook", url=receiver.url())
    make_route(team, [channel], group_wait=30, group_interval=60, repeat_interval=3600)
    t0 = timezone.now()
    for i in range(50):  # 10 alerts of one rule on one host, each firing 5 times
        fire(publish, team, f"fp-{i % 10}")
    assert receiver.requests == []  # group_wait holds the first notification
    assert NotificationGroup.objects.count() == 1
    assert NotificationItem.objects.count() == 10  # deduplicated by fingerprint
    assert sum(NotificationItem.objects.values_list("count", flat=True)) == 50

    services.flush_due(t0 + timedelta(seconds=31))
    services.deliver_due(t0 + timedelta(seconds=31))
    [first] = receiver.wait_for(1)
    [note] = first.json()["notifications"]
    assert note["status"] == "firing" and len(note["events"]) == 10

    restart_worker()
    for minute in range(1, 30):  # flushes every minute from the log: nothing new, no resend
        services.flush_due(t0 + timedelta(minutes=minute))
        services.deliver_due(t0 + timedelta(minutes=minute))
    assert len(receiver.requests) == 1

    for i in range(10):
        fire(publish, team, f"fp-{i}", status="resolved", severity="info")
    restart_worker()
    services.flush_due(t0 + timedelta(minutes=31))
    services.deliver_due(t0 + timedelta(minutes=31))
    assert len(receiver.wait_for(2)) == 2
    resolved = receiver.requests[1].json()["notifications"][0]
    assert resolved["status"] == "resolved" and len(resolved["events"]) == 10
    restart_worker()
    services.flush_due(t0 + timedelta(hours=5))
    services.deliver_due(t0 + timedelta(hours=5))
    assert len(receiver.requests) == 2  # resolved alerts are never repeated
    assert NotificationItem.objects.count() == 0


def test_new_alert_in_a_group_waits_for_group_interval_and_repeat_after_repeat_interval(team, make_channel, make_route, publish):
    channel = make_channel(team, "webhook", url="http://127.0.0.1:1/x")
    make_route(team, [channel], group_wait=10, group_interval=60, repeat_interval=600)
    t0 = timezone.now()
    fire(publish, team, "a")
    assert len(services.flush_due(t0 + timedelta(seconds=11))) == 1
    group = NotificationGroup.objects.get()
    fire(publish, team, "b")  # a new alert in the group
    group.refresh_from_db()
    assert group.next_flush_at >= t0 + timedelta(seconds=11 + 60) - timedelta(seconds=1)
    assert services.flush_due(t0 + timedelta(seconds=40)) == []
    [second] = services.flush_due(t0 + timedelta(seconds=72))
    assert [e["data"]["fingerprint"] for e in second.message["notifications"][0]["events"]] == ["a", "b"]
    assert services.flush_due(t0 + timedelta(seconds=300)) == []  # nothing new, repeat not due
    [repeat] = services.flush_due(t0 + timedelta(seconds=72 + 601))
    assert repeat.message["status"] == "firing"


def test_resolution_before_first_notification_sends_nothing(team, make_channel, make_route, publish):
    channel = make_channel(team, "webhook", url="http://127.0.0.1:1/x")
    make_route(team, [channel], group_wait=30)
    t0 = timezone.now()
    fire(publish, team, "flap")
    fire(publish, team, "flap", status="resolved")
    assert services.flush_due(t0 + timedelta(seconds=31)) == []
    assert NotificationItem.objects.count() == 0


def test_two_workers_flush_a_group_once(team, make_channel, make_route, publish):
    channel = make_channel(team, "webhook", url="http://127.0.0.1:1/x")
    make_route(team, [channel], group_wait=5)
    t0 = timezone.now()
    fire(publish, team, "x")
    group = NotificationGroup.objects.get()
    later = t0 + timedelta(seconds=6)
    assert services.claim_group(group.pk, later) is not None  # worker A holds it
    assert services.flush_group(group.pk, later) is None  # worker B finds it claimed
    assert Delivery.objects.count() == 0


def test_1000_events_in_a_minute_to_a_rate_limited_channel_send_the_limit_and_lose_nothing(team, make_channel, make_route, receiver):
    """Simulated time (the subscriber and the periodic tick driven with an explicit `now`):
    1,000 events over one minute, 5 alert groups flushed every second, a channel allowing
    10 messages a minute in bursts of 5. A token bucket sends at most burst + rate x time."""
    channel = make_channel(team, "webhook", url=receiver.url(), rate_limit=10, rate_burst=5)
    make_route(team, [channel], group_by=["host"], group_wait=0, group_interval=0)
    t0 = timezone.now()
    for i in range(1000):
        now = t0 + timedelta(seconds=i * 0.06)  # 1,000 events spread over 60 s
        services.route_event(_container_died(team, i), now=now)
        if i % 17 == 16:  # about once a simulated second: the tick
            services.flush_due(now)
            services.deliver_due(now)
    end = t0 + timedelta(seconds=60)
    services.flush_due(end)
    services.deliver_due(end)
    sent_in_the_minute = len(receiver.requests)
    assert sent_in_the_minute <= 5 + 10  # the bucket: burst 5, plus 10 refilled in the minute
    assert Delivery.objects.filter(status=Delivery.Status.FOLDED).count() > 100  # the rest waited, folded
    for second in range(0, 61, 6):  # the next minute: what waited arrives, folded
        services.deliver_due(end + timedelta(seconds=second))
    got = receiver.requests
    assert len(got) <= sent_in_the_minute + 5 + 10
    summaries = [e["summary"] for r in got for n in r.json()["notifications"] for e in n["events"]]
    assert sorted(summaries) == sorted(f"died {i}" for i in range(1000))  # each exactly once: nothing lost
    assert not Delivery.objects.filter(status__in=Delivery.PENDING).exists()


def _container_died(team, i) -> dict:
    return {"id": 10_000 + i, "kind": "container.died", "severity": "error", "team": team.pk,
            "host": {"id": i % 5, "name": f"h{i % 5}"}, "target": {"kind": "container", "id": i, "name": f"c{i}", "labels": {}},
            "occurred_at": "", "summary": f"died {i}", "url": f"/containers/{i}/", "data": {}}


FAMILIES = {
    "host.down": None,
    "container.died": {"kind": "container", "id": "c1", "name": "api", "labels": {"env": "prod", "app": "api"}},
    "alert.firing": {"kind": "container", "id": "c1", "name": "api", "labels": {"env": "prod", "app": "api"}},
    "scan.new_findings": {"kind": "image", "id": "sha256:1", "name": "api:1.2", "labels": {"env": "prod"}},
    "backup.failed": {"kind": "backup_job", "id": 3, "name": "db nightly", "labels": {"env": "prod"}},
    "update.rolled_back": {"kind": "container", "id": "c1", "name": "api", "labels": {"env": "prod"}},
}


@pytest.mark.parametrize("kind", list(FAMILIES))
def test_one_route_per_event_family_matches_by_host_and_label(kind, team, make_channel, make_route, publish):
    family = kind.split(".")[0]
    channel = make_channel(team, "webhook", url="http://127.0.0.1:1/x")
    hold = {"group_wait": 600}  # keep the items in the log, where the test reads them
    by_host = make_route(team, [channel], name=f"{family} on prod hosts", kinds=[f"{family}.*"], hosts=["prod-*"], **hold)
    by_label = make_route(team, [channel], name=f"{family} env=prod", kinds=[f"{family}.*"], labels={"env": "pr*"},
                          **hold) if FAMILIES[kind] else None
    data = alert_data("f1") if family == "alert" else {}

    def send(host, labels):
        target = dict(FAMILIES[kind], labels=labels) if FAMILIES[kind] else None
        publish(kind, team, severity="error", host=host, target=target, summary="s", data=data)

    send(FakeHost(1, "prod-db"), {"env": "staging"})
    send(FakeHost(2, "dev-db"), {"env": "staging"})
    assert NotificationGroup.objects.filter(route=by_host).count() == 1
    assert NotificationItem.objects.get(group__route=by_host).envelope["host"]["name"] == "prod-db"
    if by_label:
        assert not NotificationGroup.objects.filter(route=by_label).exists()
        send(FakeHost(2, "dev-db"), {"env": "prod"})
        assert NotificationItem.objects.get(group__route=by_label).envelope["host"]["name"] == "dev-db"
    # Another family never matches.
    publish("other.thing", team, severity="critical", host=FakeHost(1, "prod-db"), summary="x")
    assert not NotificationItem.objects.filter(envelope__kind="other.thing").exists()


def test_severity_threshold_and_stop(team, make_channel, make_route, publish):
    a, b = make_channel(team, url="http://127.0.0.1:1/a"), make_channel(team, url="http://127.0.0.1:1/b")
    make_route(team, [a], order=1, min_severity="error", stop=True, group_wait=600)
    make_route(team, [b], order=2, group_wait=600)
    publish("host.down", team, severity="critical", host=WEB1, summary="down")
    publish("host.up", team, severity="info", host=WEB1, summary="up")
    assert list(NotificationItem.objects.filter(group__channel=a).values_list("envelope__summary", flat=True)) == ["down"]
    assert list(NotificationItem.objects.filter(group__channel=b).values_list("envelope__summary", flat=True)) == ["up"]


def test_quiet_hours_in_the_team_time_zone_hold_back_until_they_end(team, make_channel, make_route, publish):
    team.time_zone = "Asia/Tokyo"
    team.save()
    channel = make_channel(team, url="http://127.0.0.1:1/a")
    make_route(team, [channel], quiet_start=time(22, 0), quiet_end=time(7, 0), quiet_bypass_severity="critical")
    tokyo = ZoneInfo("Asia/Tokyo")
    night = datetime(2026, 12, 1, 23, 30, tzinfo=tokyo)
    services.route_event({"kind": "host.down", "severity": "error", "team": team.pk, "host": {"id": 1, "name": "a"},
                          "target": None, "occurred_at": night.isoformat(), "summary": "down", "url": "", "data": {}}, now=night)
    assert services.flush_due(night + timedelta(seconds=1)) == []
    group = NotificationGroup.objects.get()
    assert group.next_flush_at == datetime(2026, 12, 2, 7, 0, tzinfo=tokyo)
    [delivery] = services.flush_due(datetime(2026, 12, 2, 7, 0, 1, tzinfo=tokyo))
    assert delivery.message["notifications"][0]["events"][0]["summary"] == "down"
    # Critical bypasses quiet hours.
    services.route_event({"kind": "host.down", "severity": "critical", "team": team.pk, "host": {"id": 2, "name": "b"},
                          "target": None, "occurred_at": night.isoformat(), "summary": "down!", "url": "", "data": {}}, now=night)
    assert len(services.flush_due(night + timedelta(seconds=1))) == 1


def test_digest_collects_low_severity_into_one_message_every_n_minutes(team, make_channel, make_route, publish):
    channel = make_channel(team, url="http://127.0.0.1:1/a")
    make_route(team, [channel], digest_below="warning", digest_interval=15, group_wait=60)
    for i in range(20):
        publish("container.started", team, severity="info", host=FakeHost(i, f"h{i}"), summary=f"started {i}")
    publish("container.died", team, severity="error", host=WEB1, summary="died")
    t0 = timezone.now()  # after the publishes: on a loaded machine they can take seconds
    due = services.flush_due(t0 + timedelta(seconds=61))
    assert [d.subject for d in due] == ["[DockerForge] [ERROR] died"]  # not in the digest
    assert services.flush_due(t0 + timedelta(minutes=10)) == []
    [digest] = services.flush_due(t0 + timedelta(minutes=15, seconds=1))
    assert digest.subject == "[DockerForge] Digest: 20 events"
    assert digest.event_count == 20


def test_pending_alerts_are_not_notified(team, make_channel, make_route, publish):
    channel = make_channel(team, url="http://127.0.0.1:1/a")
    make_route(team, [channel])
    publish("alert.pending", team, severity="warning", host=WEB1, summary="p", data=alert_data("p", status="pending"))
    assert not NotificationItem.objects.exists()


def test_the_tick_reschedules_a_group_whose_due_time_was_lost(team, make_channel, make_route, publish):
    """A flush that raced an event can leave an un-notified item with no due time: the
    periodic tick finds it in the log and notifies."""
    channel = make_channel(team, url="http://127.0.0.1:1/a")
    make_route(team, [channel], group_wait=600)
    publish("host.down", team, severity="error", host=WEB1, summary="down")
    NotificationGroup.objects.update(next_flush_at=None)
    [delivery] = services.flush_due(timezone.now())
    assert delivery.message["notifications"][0]["events"][0]["summary"] == "down"
