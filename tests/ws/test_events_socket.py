"""/ws/events/ and /ws/operations/<id>/ through the real ASGI application (origin validator,
session and token auth, URL router, consumers) with WebsocketCommunicator."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.accounts.models import ApiToken
from apps.activity.models import Operation
from apps.activity.operations import Progress
from apps.core import events
from dockerforge.asgi import application
from tests.helpers import in_other_thread

from .conftest import session_headers

pytestmark = pytest.mark.django_db(transaction=True)
QUIET = 0.3  # seconds a socket must stay silent to count as "received nothing"


def communicator(path: str, headers) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=headers)


def run(coro_fn, *args):
    return async_to_sync(coro_fn)(*args)


async def connect(path, headers):
    comm = communicator(path, headers)
    connected, code = await comm.connect(timeout=5)
    return comm, connected, code


def test_member_receives_own_team_events_only_ids_and_kind(in_memory_layer, two_teams):
    a, b = two_teams["a"], two_teams["b"]
    headers_a, headers_b = session_headers(Client(), a["viewer"]), session_headers(Client(), b["viewer"])

    async def scenario():
        sock_a, ok_a, _ = await connect("/ws/events/", headers_a)
        sock_b, ok_b, _ = await connect("/ws/events/", headers_b)
        assert ok_a and ok_b
        envelope = await database_sync_to_async(events.publish)(
            "host.down", a["team"], severity="error", summary="secret summary text", data={"why": "x"}
        )
        message = await sock_a.receive_json_from(timeout=5)
        assert message == {"type": "event", "kind": "host.down", "id": envelope["id"]}
        assert await sock_b.receive_nothing(timeout=QUIET)
        await sock_a.disconnect()
        await sock_b.disconnect()

    run(scenario)


def test_events_socket_joins_only_the_users_teams(in_memory_layer, two_teams):
    a, b = two_teams["a"], two_teams["b"]
    headers = session_headers(Client(), a["admin"])

    async def scenario():
        # Asking for another team's group: refused before accept.
        _, ok, code = await connect(f"/ws/events/?team={b['team'].pk}", headers)
        assert not ok and code == 4404
        _, ok, code = await connect("/ws/events/?team=abc", headers)
        assert not ok and code == 4404
        # Its own team by id: joined, and B's events do not arrive.
        sock, ok, _ = await connect(f"/ws/events/?team={a['team'].pk}", headers)
        assert ok
        await database_sync_to_async(events.publish)("host.up", b["team"], summary="b")
        assert await sock.receive_nothing(timeout=QUIET)
        await database_sync_to_async(events.publish)("host.up", a["team"], summary="a")
        assert (await sock.receive_json_from(timeout=5))["kind"] == "host.up"
        await sock.disconnect()

    run(scenario)


def test_user_without_team_and_anonymous_are_refused(in_memory_layer, make_user):
    lonely = session_headers(Client(), make_user(username="lonely"))

    async def scenario():
        _, ok, code = await connect("/ws/events/", lonely)
        assert not ok and code == 4404
        _, ok, code = await connect("/ws/events/", [(b"origin", b"http://127.0.0.1:8000")])
        assert not ok and code == 4401

    run(scenario)


def test_foreign_origin_refused_before_accept_even_with_session(in_memory_layer, two_teams):
    headers = session_headers(Client(), two_teams["a"]["viewer"], origin=b"http://evil.example")

    async def scenario():
        comm, ok, code = await connect("/ws/events/", headers)
        assert not ok and code == 4403
        assert await comm.receive_nothing(timeout=QUIET)

    run(scenario)


@pytest.mark.parametrize("origin", [b"null", b"file://", b"http://127.0.0.1.evil.example"])
def test_odd_origins_refused(in_memory_layer, two_teams, origin):
    headers = session_headers(Client(), two_teams["a"]["viewer"], origin=origin)

    async def scenario():
        _, ok, code = await connect("/ws/events/", headers)
        assert not ok and code == 4403

    run(scenario)


def test_no_origin_with_valid_token_is_accepted(in_memory_layer, two_teams):
    a = two_teams["a"]
    _, raw = ApiToken.issue(a["viewer"], "cli")

    async def scenario():
        sock, ok, _ = await connect("/ws/events/", [(b"authorization", f"Token {raw}".encode())])
        assert ok
        await database_sync_to_async(events.publish)("host.up", a["team"], summary="s")
        assert (await sock.receive_json_from(timeout=5))["kind"] == "host.up"
        await sock.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"authorization", b"Token dfk_not-a-real-token")],
        [(b"authorization", b"Bearer something")],
        [(b"authorization", b"Token")],
    ],
    ids=["none", "bad-token", "wrong-scheme", "empty-token"],
)
def test_no_origin_without_valid_token_is_refused(in_memory_layer, two_teams, headers):
    async def scenario():
        comm, ok, code = await connect("/ws/events/", headers)
        assert not ok and code == 4403
        assert await comm.receive_nothing(timeout=QUIET)

    run(scenario)


def test_no_origin_with_revoked_token_is_refused(in_memory_layer, two_teams):
    token, raw = ApiToken.issue(two_teams["a"]["viewer"], "old")
    token.revoke()

    async def scenario():
        _, ok, code = await connect("/ws/events/", [(b"authorization", f"Token {raw}".encode())])
        assert not ok and code == 4403

    run(scenario)


def test_session_cookie_without_origin_is_not_enough(in_memory_layer, two_teams):
    # A cookie alone (no Origin, no token) is not a browser we can check: refused.
    headers = session_headers(Client(), two_teams["a"]["viewer"], origin=None)

    async def scenario():
        _, ok, code = await connect("/ws/events/", headers)
        assert not ok and code == 4403

    run(scenario)


def test_operation_stream_log_progress_and_permission(in_memory_layer, two_teams):
    a, b = two_teams["a"], two_teams["b"]
    op = Operation.objects.create(team=a["team"], kind="host.sync", status="running")
    headers_a, headers_b = session_headers(Client(), a["viewer"]), session_headers(Client(), b["admin"])

    async def scenario():
        _, ok, code = await connect(f"/ws/operations/{op.pk}/", headers_b)
        assert not ok and code == 4404  # another team's operation: refused before accept
        sock, ok, _ = await connect(f"/ws/operations/{op.pk}/", headers_a)
        assert ok
        progress = Progress(op)
        await database_sync_to_async(progress.log)("pulling <layer>")
        assert await sock.receive_json_from(timeout=5) == {"type": "log", "line": "pulling <layer>\n"}
        await database_sync_to_async(progress.progress)(0.25)
        assert await sock.receive_json_from(timeout=5) == {"type": "progress", "progress": 0.25}
        await sock.disconnect()

    run(scenario)


def test_event_crosses_processes_through_redis(redis_layer, two_teams):
    """The socket listens in one event loop while a separate thread with no loop of its own
    publishes through Redis (as a Celery worker would)."""
    a = two_teams["a"]
    headers = session_headers(Client(), a["operator"])

    async def scenario():
        sock, ok, _ = await connect("/ws/events/", headers)
        assert ok
        envelope = await sync_to_async(in_other_thread)(lambda: events.publish("backup.failed", a["team"], severity="error"))
        message = await sock.receive_json_from(timeout=5)
        assert message == {"type": "event", "kind": "backup.failed", "id": envelope["id"]}
        await sock.disconnect()

    run(scenario)
