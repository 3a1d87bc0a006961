"""The lifecycle API against the real engine: engine and mirror change, Operations and
AuditEvents are written, a connected /ws/events/ client hears a container push after each
operation; the engine's own event (through the listener) is the one stored Event per state
change; viewers get 403 before validation, other teams 404, bad input 400 with field errors."""

import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.activity.models import AuditEvent, Event, Operation
from apps.containers.models import Container
from dockerforge.asgi import application
from tests.conftest import api_client_for
from tests.containers.conftest import wait_for
from tests.ws.conftest import in_memory_layer, session_headers  # noqa: F401 - fixture

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
ACTIONS = ("start", "stop", "restart", "pause", "unpause", "kill", "remove", "rename", "recreate", "duplicate")


def post(user, path, body=None):
    return api_client_for(user).post(f"/api/v1/containers/{path}", body or {}, format="json")


def op_of(resp) -> Operation:
    assert resp.status_code == 202, resp.content
    return Operation.objects.get(pk=resp.json()["operation"])


def test_stop_start_remove_change_engine_mirror_audit_and_socket(in_memory_layer, two_teams, make_container, engine_client):  # noqa: F811
    a = two_teams["a"]
    row = make_container()
    operator = a["operator"]
    headers = session_headers(Client(), a["viewer"])  # viewers hear the team's events too

    async def scenario():
        sock = WebsocketCommunicator(application, "/ws/events/", headers=headers)
        connected, _ = await sock.connect(timeout=5)
        assert connected
        pushes = []
        for action, body in (("stop", {"timeout": 1}), ("start", {}), ("remove", {"force": True})):
            resp = await sync_to_async(post)(operator, f"{row.pk}/{action}/", body)
            assert resp.status_code == 202, resp.content
            while True:
                message = await sock.receive_json_from(timeout=10)
                if message["type"] == "container":
                    pushes.append(message)
                    break
        await sock.disconnect()
        return pushes

    pushes = async_to_sync(scenario)()
    assert pushes == [{"type": "container", "id": row.pk}] * 3  # kind and ids only
    ops = list(Operation.objects.filter(target_kind="container", target_id=str(row.pk)).order_by("pk"))
    assert [(o.kind, o.status) for o in ops] == [
        ("container.stop", "succeeded"), ("container.start", "succeeded"), ("container.remove", "succeeded"),
    ]
    assert all(o.created_by == operator for o in ops)
    audits = AuditEvent.objects.filter(object_type="containers.container", object_id=str(row.pk)).order_by("pk")
    assert [(x.name, x.actor_id, x.via) for x in audits] == [
        ("container.stop", operator.pk, "task"), ("container.start", operator.pk, "task"), ("container.remove", operator.pk, "task"),
    ]
    # No listener runs here: the operations themselves stored no Event (the engine's own
    # events are the record of the state change; see test_one_event_per_start_with_listener).
    assert not Event.objects.filter(target_kind="container", target_id=str(row.pk)).exists()
    row.refresh_from_db()
    assert row.removed_at is not None
    assert not engine_client.containers.list(all=True, filters={"id": row.docker_id})


def test_mirror_follows_pause_and_kill(two_teams, make_container, engine_client):
    operator = two_teams["a"]["operator"]
    row = make_container()
    op_of(post(operator, f"{row.pk}/pause/"))
    row.refresh_from_db()
    assert row.state == "paused" and engine_client.containers.get(row.docker_id).status == "paused"
    op_of(post(operator, f"{row.pk}/unpause/"))
    op = op_of(post(operator, f"{row.pk}/kill/", {"signal": "KILL"}))
    op.refresh_from_db()
    assert op.status == "succeeded" and op.params["signal"] == "SIGKILL"
    row.refresh_from_db()
    assert row.state == "exited" and row.exit_code == 137


def test_rename_and_engine_refusal_fails_the_operation(two_teams, make_container, engine_client):
    operator = two_teams["a"]["operator"]
    row, other = make_container(), make_container()
    op = op_of(post(operator, f"{row.pk}/rename/", {"name": row.name + "-renamed"}))
    op.refresh_from_db()
    assert op.status == "succeeded"
    assert engine_client.containers.get(row.docker_id).name == row.name + "-renamed"
    row.refresh_from_db()
    assert row.name.endswith("-renamed")
    # The engine refuses a taken name: the Operation fails with the engine's message.
    op = op_of(post(operator, f"{row.pk}/rename/", {"name": other.name}))
    op.refresh_from_db()
    assert op.status == "failed" and "already in use" in op.error


@pytest.mark.parametrize("role", ["viewer"])
def test_viewer_gets_403_on_every_action_before_validation(two_teams, make_container, role):
    a = two_teams["a"]
    row = make_container(start=False)
    for action in ACTIONS:
        resp = post(a[role], f"{row.pk}/{action}/", {"timeout": "not a number", "changes": {"env": 5}})
        assert resp.status_code == 403, (action, resp.content)
    resp = post(a[role], "", {"host": row.host_id, "image": "!!"})
    assert resp.status_code == 403
    assert not Operation.objects.exists()


def test_other_team_gets_404(two_teams, make_container):
    row = make_container(start=False)
    for action in ACTIONS:
        assert post(two_teams["b"]["admin"], f"{row.pk}/{action}/").status_code == 404, action
    resp = post(two_teams["b"]["admin"], "", {"host": row.host_id, "image": "dockerforge/busybox:test"})
    assert resp.status_code == 404
    assert not Operation.objects.exists()


@pytest.mark.parametrize(
    "action, body, field",
    [
        ("stop", {"timeout": "soon"}, "timeout"),
        ("stop", {"timeout": 99999}, "timeout"),
        ("kill", {"signal": "SIGNOPE"}, "signal"),
        ("rename", {"name": "bad name!"}, "name"),
        ("rename", {}, "name"),
        ("recreate", {"changes": {"ports": "99999:80"}}, "ports"),
        ("recreate", {"changes": {"volumes": "/etc:/x"}}, "volumes"),
        ("recreate", {"changes": {"nope": 1}}, "nope"),
        ("recreate", {"health_seconds": "long"}, "health_seconds"),
        ("duplicate", {"changes": {}}, "name"),
    ],
)
def test_bad_input_is_400_with_field_errors(two_teams, make_container, action, body, field):
    row = make_container(start=False)
    resp = post(two_teams["a"]["operator"], f"{row.pk}/{action}/", body)
    assert resp.status_code == 400, resp.content
    assert field in resp.json()["error"]["details"]
    assert not Operation.objects.exists()


def test_removed_rows_are_404(two_teams, make_container):
    row = make_container(start=False)
    Container.objects.filter(pk=row.pk).update(removed_at="2020-01-01T00:00:00Z")
    assert post(two_teams["a"]["operator"], f"{row.pk}/start/").status_code == 404


def test_one_stored_event_per_start_with_the_listener_running(two_teams, make_container, local_host, listening):
    """A start through the portal: the listener stores the engine's `container.start` and the
    operation adds none, so notifications route the change once."""
    row = make_container(start=False)
    listening(local_host)
    op = op_of(post(two_teams["a"]["operator"], f"{row.pk}/start/"))
    op.refresh_from_db()
    assert op.status == "succeeded", op.error

    def stored() -> list[str]:
        return list(Event.objects.filter(target_kind="container", target_id=str(row.pk)).values_list("kind", flat=True))

    wait_for(lambda: "container.start" in stored(), 5.0, "the listener's container.start")
    time.sleep(1.0)  # anything else about this start would have arrived by now
    assert stored().count("container.start") == 1
    assert [k for k in stored() if k not in ("container.create",)] == ["container.start"]
    row.refresh_from_db()
    assert row.state == "running"
    audit = AuditEvent.objects.get(name="container.start", object_id=str(row.pk))
    assert audit.actor == two_teams["a"]["operator"] and op.created_by == audit.actor
