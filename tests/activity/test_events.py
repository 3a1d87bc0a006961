"""events.publish: one envelope, stored by activity's sink, fanned out after commit."""

import pytest

from apps.activity.models import Event
from apps.core import events
from apps.hosts.models import DockerHost

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    got: list[dict] = []

    def subscriber(envelope):
        got.append(envelope)

    def broken(envelope):
        raise RuntimeError("a broken subscriber")

    events.subscribe("host.", broken)
    events.subscribe("host.", subscriber)
    yield got
    events.unsubscribe(subscriber)
    events.unsubscribe(broken)


def test_publish_stores_the_envelope(two_teams, received, django_capture_on_commit_callbacks):
    team = two_teams["a"]["team"]
    host = DockerHost.objects.create(team=team, name="h1", url="tcp://127.0.0.1:1")
    with django_capture_on_commit_callbacks(execute=True):
        envelope = events.publish(
            "host.down", team, severity="error", host=host, target=events.ref("host", host), summary="h1 is down",
            url="/hosts/1/", data={"error": "refused"},
        )
    stored = Event.objects.get(pk=envelope["id"])
    assert (stored.team_id, stored.kind, stored.severity, stored.host_id, stored.summary) == (team.pk, "host.down", "error", host.pk, "h1 is down")
    assert stored.target_kind == "host" and stored.target_name == "h1"
    payload = stored.payload
    assert set(payload) == {"kind", "severity", "team", "host", "target", "occurred_at", "summary", "url", "data"}
    assert payload["host"] == {"id": host.pk, "name": "h1"} and payload["data"] == {"error": "refused"}
    assert payload["target"] == {"kind": "host", "id": host.pk, "name": "h1", "labels": {}}


def test_subscribers_run_after_commit_and_by_prefix(two_teams, received, django_capture_on_commit_callbacks):
    team = two_teams["a"]["team"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.publish("host.up", team, summary="up")
        events.publish("container.died", team, summary="other prefix")
    assert received == []  # nothing before the transaction commits
    for callback in callbacks:
        callback()
    # The broken subscriber raised; the good one still got exactly the host.* event.
    assert [e["kind"] for e in received] == ["host.up"]
    assert received[0]["team"] == team.pk and received[0]["id"] == Event.objects.get(kind="host.up").pk


def test_unknown_severity_is_refused(two_teams):
    with pytest.raises(ValueError):
        events.publish("host.up", two_teams["a"]["team"], severity="apocalyptic")
    assert not Event.objects.exists()
