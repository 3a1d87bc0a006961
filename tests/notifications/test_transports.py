"""Channels against real servers on 127.0.0.1: SMTP (aiosmtpd), Slack, webhook, ntfy."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.notifications import services
from apps.notifications.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from apps.notifications.models import Delivery, DeliveryAttempt

from .conftest import FakeHost, alert_data

pytestmark = pytest.mark.django_db


def _fire(publish, team, fingerprint="fp-1", **extra):
    return publish("alert.firing", team, severity="critical", host=FakeHost(7, "web-1"),
                   target={"kind": "container", "id": "abc", "name": "nginx<script>", "labels": {"env": "prod"}},
                   summary="CPU above 90% on nginx", url="/alerts/12/", data=alert_data(fingerprint), **extra)


def test_email_reaches_real_smtp_server_with_text_and_html(team, make_channel, make_route, publish, smtp_server):
    channel = make_channel(team, "email", config={
        "recipients": ["ops@example.test", "oncall@example.test"], "smtp_host": "127.0.0.1",
        "smtp_port": smtp_server.port, "smtp_security": "none", "from_email": "df@example.test",
    })
    make_route(team, [channel])
    _fire(publish, team)
    received = smtp_server.wait_for(1)
    assert len(received) == 1
    msg = received[0]["message"]
    assert sorted(received[0]["to"]) == ["oncall@example.test", "ops@example.test"]
    assert "[FIRING:1] High CPU on web-1" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "cpu=95.0% for 5m" in text  # the evidence
    assert "http://portal.example.test/alerts/12/" in text  # the link back
    assert 'href="http://portal.example.test/alerts/12/"' in html
    assert "nginx&lt;script&gt;" in html and "nginx<script>" not in html  # untrusted names are escaped
    assert Delivery.objects.get(channel=channel).status == Delivery.Status.DELIVERED


def test_email_starttls_to_a_server_without_it_is_a_permanent_error(team, make_channel, smtp_server):
    channel = make_channel(team, "email", config={"recipients": ["ops@example.test"], "smtp_host": "127.0.0.1",
                                                   "smtp_port": smtp_server.port, "smtp_security": "starttls"})
    delivery = Delivery.objects.create(team=team, channel=channel, message={"subject": "s", "text": "t"})
    delivery = services.deliver(delivery.pk)
    assert delivery.status == Delivery.Status.FAILED
    assert "STARTTLS" in delivery.error
    channel.refresh_from_db()
    assert "STARTTLS" in channel.last_error


def test_slack_gets_block_kit(team, make_channel, make_route, publish, receiver):
    channel = make_channel(team, "slack", url=receiver.url("/services/T000/B000/XXXX"))
    make_route(team, [channel])
    _fire(publish, team)
    [req] = receiver.wait_for(1)
    body = req.json()
    assert req.path == "/services/T000/B000/XXXX"
    assert body["text"].startswith("[DockerForge] [FIRING:1]")
    assert body["blocks"][0]["type"] == "header"
    section = body["blocks"][1]["text"]["text"]
    assert "nginx&lt;script&gt;" in section  # Slack's own escaping
    assert "<http://portal.example.test/alerts/12/|open>" in section
    assert body["blocks"][-1]["type"] == "context"


def test_webhook_signature_verifies_with_the_channel_secret_only(team, make_channel, make_route, publish, receiver):
    channel = make_channel(team, "webhook", url=receiver.url(), signing_secret="s3cret-signing",
                           headers='{"Authorization": "Bearer tok"}')
    make_route(team, [channel])
    _fire(publish, team)
    [req] = receiver.wait_for(1)
    ts, sig = req.headers[TIMESTAMP_HEADER], req.headers[SIGNATURE_HEADER]
    assert verify_signature("s3cret-signing", ts, req.body, sig)
    assert not verify_signature("wrong-secret", ts, req.body, sig)
    assert not verify_signature("s3cret-signing", ts, req.body + b" ", sig)  # body tampered
    assert not verify_signature("s3cret-signing", str(int(ts) - 3600), req.body, sig)  # replayed later
    assert req.headers["Authorization"] == "Bearer tok"
    body = req.json()
    [note] = body["notifications"]
    assert note["status"] == "firing" and note["events"][0]["data"]["fingerprint"] == "fp-1"
    assert note["url"] == "http://portal.example.test/alerts/12/"


def test_ntfy_plugin_channel_posts_json(team, make_channel, make_route, publish, receiver):
    channel = make_channel(team, "ntfy", url=receiver.url("/alerts-topic"))
    make_route(team, [channel])
    _fire(publish, team)
    [req] = receiver.wait_for(1)
    body = req.json()
    assert req.path == "/"
    assert body["topic"] == "alerts-topic" and body["priority"] == 5
    assert body["click"] == "http://portal.example.test/alerts/12/"


def _queued(team, channel):
    return Delivery.objects.create(team=team, channel=channel, subject="s", message={"subject": "s", "notifications": []})


def test_503_twice_then_200_is_three_attempts_and_one_delivery(team, make_channel, receiver):
    channel = make_channel(team, "webhook", url=receiver.url())
    receiver.answer((503, {}, "busy"), (503, {}, "busy"))
    delivery = _queued(team, channel)
    now = timezone.now()
    first = services.deliver(delivery.pk, now)
    assert first.status == Delivery.Status.RETRYING and first.response_code == 503
    wait1 = (first.next_attempt_at - now).total_seconds()
    assert 5.0 <= wait1 <= 10.0  # base 10 s with 50-100 % jitter
    assert services.deliver(delivery.pk, now + timedelta(seconds=wait1 - 0.5)) is None  # not due yet
    second = services.deliver(delivery.pk, first.next_attempt_at)
    wait2 = (second.next_attempt_at - first.next_attempt_at).total_seconds()
    assert second.status == Delivery.Status.RETRYING and 10.0 <= wait2 <= 20.0  # exponential
    third = services.deliver(delivery.pk, second.next_attempt_at)
    assert third.status == Delivery.Status.DELIVERED
    assert len(receiver.requests) == 3
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("status", "response_code"))
    assert attempts == [("transient", 503), ("transient", 503), ("ok", 200)]
    assert all(a.latency_ms > 0 for a in DeliveryAttempt.objects.filter(delivery=delivery))


def test_404_is_one_attempt_and_a_visible_channel_error(team, make_channel, receiver, client, make_user):
    channel = make_channel(team, "webhook", url=receiver.url("/gone"))
    receiver.answer((404, {}, "no such hook"))
    delivery = services.deliver(_queued(team, channel).pk)
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert services.deliver_due(timezone.now() + timedelta(days=1)) == []
    assert len(receiver.requests) == 1
    channel.refresh_from_db()
    assert "HTTP 404" in channel.last_error and "/gone" not in channel.last_error  # no URL path: it is secret
    client.force_login(make_user(team, "viewer"))
    page = client.get(f"/notifications/channels/{channel.pk}/")
    assert page.status_code == 200 and b"HTTP 404" in page.content


def test_429_with_retry_after_waits_as_told(team, make_channel, receiver):
    channel = make_channel(team, "webhook", url=receiver.url())
    receiver.answer((429, {"Retry-After": "42"}, "slow down"))
    queued = _queued(team, channel)
    now = timezone.now()
    delivery = services.deliver(queued.pk, now)
    assert delivery.status == Delivery.Status.RETRYING
    assert delivery.next_attempt_at == now + timedelta(seconds=42)
    assert services.deliver(delivery.pk, now + timedelta(seconds=41)) is None
    assert services.deliver(delivery.pk, now + timedelta(seconds=42)).status == Delivery.Status.DELIVERED
    assert DeliveryAttempt.objects.get(delivery=delivery, number=1).retry_after == 42


def test_transient_failures_stop_at_the_cap(team, make_channel, receiver, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    channel = make_channel(team, "webhook", url=receiver.url())
    receiver.answer(*[(500, {}, "boom")] * 3)
    delivery = _queued(team, channel)
    now = timezone.now()
    for _ in range(3):
        services.deliver(delivery.pk, now)
        now += timedelta(hours=2)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 3
    channel.refresh_from_db()
    assert "gave up after 3" in channel.last_error


def test_unreachable_port_is_transient(team, make_channel):
    channel = make_channel(team, "webhook", url="http://127.0.0.1:1/hook")
    delivery = services.deliver(_queued(team, channel).pk)
    assert delivery.status == Delivery.Status.RETRYING
    assert "could not connect to http://127.0.0.1:1" in delivery.error


def test_address_is_checked_again_before_each_send(team, make_channel, receiver, settings):
    channel = make_channel(team, "webhook", url=receiver.url())
    settings.OUTBOUND_ALLOW = []  # the policy (or DNS) changed after the channel was saved
    delivery = services.deliver(_queued(team, channel).pk)
    assert delivery.status == Delivery.Status.FAILED and "not allowed" in delivery.error
    assert receiver.requests == []
