import pytest

from apps.core import events
from apps.notifications.models import Channel, Route

from .servers import start_http_receiver, start_smtp_server


@pytest.fixture
def receiver():
    server = start_http_receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def smtp_server():
    capture = start_smtp_server()
    yield capture
    capture.controller.stop()


@pytest.fixture(autouse=True)
def _fast_notifications(settings):
    """Short waiting times; tests that care about timing pass an explicit `now`."""
    settings.NOTIFICATIONS_GROUP_WAIT = 0
    settings.NOTIFICATIONS_GROUP_INTERVAL = 0
    settings.NOTIFICATIONS_REPEAT_INTERVAL = 3600
    settings.NOTIFICATIONS_RETRY_BASE = 10.0
    settings.NOTIFICATIONS_CONNECT_TIMEOUT = 2.0
    settings.NOTIFICATIONS_READ_TIMEOUT = 3.0
    settings.SITE_URL = "http://portal.example.test"


@pytest.fixture
def team(make_team):
    return make_team("Ops")


@pytest.fixture
def make_channel(db):
    def make(team, kind="webhook", name=None, **fields):
        name = name or f"{kind}-{Channel.objects.count() + 1}"
        return Channel.objects.create(team=team, kind=kind, name=name, **fields)

    return make


@pytest.fixture
def make_route(db):
    def make(team, channels, name=None, **fields):
        route = Route.objects.create(team=team, name=name or f"route-{Route.objects.count() + 1}", **fields)
        route.channels.set(channels)
        return route

    return make


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Publish on the real bus and run its after-commit fan-out (and what that queues)."""

    def do(kind, team, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return events.publish(kind, team, **fields)

    return do


class FakeHost:
    """What events.publish reads of a host (the hosts app is not imported by this one)."""

    def __init__(self, pk, name):
        self.pk, self.name = pk, name


def alert_data(fingerprint, status="firing", rule_id=1, rule_name="High CPU", value=95.0):
    return {
        "fingerprint": fingerprint, "rule": {"id": rule_id, "name": rule_name}, "status": status,
        "started_at": "2026-12-01T10:00:00+00:00", "resolved_at": None if status != "resolved" else "2026-12-01T10:30:00+00:00",
        "value": value, "evidence": [f"cpu={value}% for 5m"],
    }
