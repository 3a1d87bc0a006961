"""The per-container sockets through the real ASGI stack (origin/token validator, session
auth, router, consumers) against the real engine: log follow and the exec console."""

import asyncio
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.accounts.models import ApiToken
from apps.activity.models import AuditEvent
from dockerforge.asgi import application
from tests.ws.conftest import session_headers

from .conftest import write_line

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
QUIET = 0.5


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


def headers_for(user):
    return session_headers(Client(), user)


def token_headers(user):
    _, raw = ApiToken.issue(user, "cli")
    return [(b"authorization", f"Token {raw}".encode())]


async def open_socket(path, headers):
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await comm.connect(timeout=10)
    return comm, connected, code


async def receive_until(comm, predicate, timeout=10.0):
    """Collect messages until predicate(collected) holds; returns them."""
    got = []
    deadline = time.monotonic() + timeout
    while not predicate(got):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out; received {got!r}"
        got.append(await comm.receive_output(timeout=remaining))
    return got


def texts_in(messages) -> str:
    import json

    out = []
    for m in messages:
        if m.get("type") == "websocket.send" and m.get("text"):
            data = json.loads(m["text"])
            for line in data.get("lines", []):
                out.append("".join(text for _, text in line["spans"]))
    return "\n".join(out)


def test_follow_receives_a_line_written_after_connecting(run_container, engine, two_teams):
    container = run_container(["sh", "-c", "echo OLD-LINE; sleep 300"], wait_for="OLD-LINE")
    viewer = headers_for(two_teams["a"]["viewer"])

    async def scenario():
        comm, ok, _ = await open_socket(f"/ws/containers/{container.pk}/logs/", viewer)
        assert ok
        await asyncio.sleep(0.5)  # the engine stream is open
        await asyncio.get_running_loop().run_in_executor(None, write_line, engine, container, "\x1b[31mLATE <b>LINE</b>")
        got = await receive_until(comm, lambda msgs: "LATE" in texts_in(msgs))
        assert "LATE <b>LINE</b>" in texts_in(got)
        assert "OLD-LINE" not in texts_in(got)  # tail=0: only what comes after connecting
        import json

        line = next(li for m in got if m.get("text") for li in json.loads(m["text"]).get("lines", []))
        assert line["spans"][0][0] == "ansi-fg-1" and line["stream"] == "stdout"
        await comm.disconnect()

    async_to_sync(scenario)()
    # Disconnecting closed the engine stream: the reader thread ends.
    deadline = time.monotonic() + 5
    while any(t.name == f"logs-follow-{container.pk}" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == f"logs-follow-{container.pk}" for t in threading.enumerate())


def test_follow_ends_when_the_container_stops(run_container, engine, two_teams):
    container = run_container(["sh", "-c", "echo START; sleep 300"], wait_for="START")
    viewer = headers_for(two_teams["a"]["viewer"])

    async def scenario():
        comm, ok, _ = await open_socket(f"/ws/containers/{container.pk}/logs/", viewer)
        assert ok
        await asyncio.sleep(0.3)
        await asyncio.get_running_loop().run_in_executor(None, lambda: engine.containers.get(container.docker_id).kill())
        got = await receive_until(comm, lambda msgs: any(m.get("type") == "websocket.close" for m in msgs))
        assert any('"end"' in (m.get("text") or "") for m in got)

    async_to_sync(scenario)()


def test_follow_refused_for_other_team_and_anonymous(run_container, two_teams):
    container = run_container(["sleep", "300"])
    other, viewer = headers_for(two_teams["b"]["admin"]), headers_for(two_teams["a"]["viewer"])

    async def scenario():
        _, ok, code = await open_socket(f"/ws/containers/{container.pk}/logs/", other)
        assert not ok and code == 4404
        _, ok, code = await open_socket(f"/ws/containers/{container.pk}/logs/", [(b"origin", b"http://127.0.0.1:8000")])
        assert not ok and code == 4401
        comm, ok, _ = await open_socket(f"/ws/containers/{container.pk}/logs/?q=(&regex=1", viewer)
        assert ok
        error = await comm.receive_json_from(timeout=5)
        assert error["type"] == "error" and "q" in error["errors"]

    async_to_sync(scenario)()


def exec_path(container, cmd="sh"):
    return f"/ws/containers/{container.pk}/exec/?cmd={cmd}&rows=24&cols=80"


def test_viewer_and_other_team_cannot_exec(run_container, engine, two_teams):
    container = run_container(["sleep", "300"])
    cases = [(headers_for(two_teams["a"]["viewer"]), 4403), (headers_for(two_teams["b"]["operator"]), 4404),
             (headers_for(two_teams["b"]["admin"]), 4404)]
    cli_viewer = token_headers(two_teams["a"]["viewer"])

    async def scenario():
        for headers, expected in cases:
            comm, ok, code = await open_socket(exec_path(container), headers)
            assert not ok and code == expected
            assert await comm.receive_nothing(timeout=0.1)
        # The CLI way (token, no Origin) is refused the same way.
        comm, ok, code = await open_socket(exec_path(container), cli_viewer)
        assert not ok and code == 4403

    async_to_sync(scenario)()
    assert not AuditEvent.objects.filter(name__startswith="exec.").exists()
    processes = [p[-1] for p in engine.containers.get(container.docker_id).top()["Processes"]]
    assert processes == ["sleep 300"]  # no exec process was ever started


@pytest.mark.parametrize("via", ["ui", "cli"])
def test_operator_exec_echo_hi_round_trip_and_audit(run_container, engine, two_teams, via):
    container = run_container(["sleep", "300"])
    operator = two_teams["a"]["operator"]
    headers = headers_for(operator) if via == "ui" else token_headers(operator)

    async def scenario():
        comm, ok, _ = await open_socket(exec_path(container), headers)
        assert ok
        ready = await comm.receive_json_from(timeout=10)
        assert ready["type"] == "ready" and ready["command"] == ["sh"]
        await comm.send_to(text_data='{"type": "resize", "rows": 30, "cols": 100}')
        await comm.send_to(bytes_data=b"echo h''i\n")  # the echoed command differs from the output
        output = b""
        deadline = time.monotonic() + 10
        while b"\r\nhi\r\n" not in output:
            assert time.monotonic() < deadline, output
            message = await comm.receive_output(timeout=10)
            output += message.get("bytes") or b""
        await comm.send_to(text_data='{"type": "input", "data": "stty size\\n"}')
        while b"30 100" not in output:
            assert time.monotonic() < deadline, output
            output += (await comm.receive_output(timeout=10)).get("bytes") or b""
        await comm.disconnect()

    async_to_sync(scenario)()
    start = AuditEvent.objects.get(name="exec.start")
    end = AuditEvent.objects.get(name="exec.end")
    assert start.actor_id == operator.pk and start.via == via and start.team_id == container.team_id
    assert start.object_id == str(container.pk) and start.after["command"] == ["sh"]
    assert end.after["exec_id"] == start.after["exec_id"] and end.after["bytes_in"] > 0 and end.after["bytes_out"] > 0
    # Hanging up ended the shell: no exec process is left in the container.
    info = engine.api.exec_inspect(start.after["exec_id"])
    assert info["Running"] is False


def test_exec_process_exit_is_reported_and_audited(run_container, two_teams):
    container = run_container(["sleep", "300"])
    admin = headers_for(two_teams["a"]["admin"])

    async def scenario():
        comm, ok, _ = await open_socket(exec_path(container, "sh%20-c%20%22exit%203%22"), admin)
        assert ok
        got = await receive_until(comm, lambda msgs: any(m.get("type") == "websocket.close" for m in msgs))
        assert any('"exit"' in (m.get("text") or "") and '"code": 3' in m["text"] for m in got), got

    async_to_sync(scenario)()
    assert AuditEvent.objects.get(name="exec.end").after["exit_code"] == 3


def test_exec_bad_command_and_engine_error_are_reported(run_container, engine, two_teams):
    container = run_container(["sleep", "300"])
    engine.containers.get(container.docker_id).stop(timeout=0)
    operator = headers_for(two_teams["a"]["operator"])

    async def scenario():
        comm, ok, _ = await open_socket(exec_path(container, "%22unclosed"), operator)
        assert ok
        message = await comm.receive_json_from(timeout=5)
        assert message["type"] == "error" and "parse" in message["message"]
        comm, ok, _ = await open_socket(exec_path(container), operator)
        assert ok
        message = await comm.receive_json_from(timeout=10)
        assert message["type"] == "error" and "not running" in message["message"]

    async_to_sync(scenario)()
    assert not AuditEvent.objects.filter(name__startswith="exec.").exists()
