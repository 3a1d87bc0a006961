"""Container streams benchmark (runnable alone: `python bench/containers_streams.py`).

1. Time to first byte of a 10,000-line log tail through the API (in-process, the whole
   bounded read: demultiplex, decode, search-ready lines, JSON) against the raw SDK call
   (first chunk of the engine's stream, and the whole raw read), as ratios.
2. Exec round-trip latency: median of 50 `echo` round trips through the exec console's
   consumer (ASGI stack, token auth, engine socket), against the same on a raw exec socket.

Needs the local engine and the image dockerforge/busybox:test. Uses a throw-away SQLite
database; the one container it starts is labelled and removed at the end.
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="dockerforge-bench-")
os.environ.update(
    DJANGO_SETTINGS_MODULE="dockerforge.settings",
    DATABASE_URL=f"sqlite:///{TMP}/bench.sqlite3",
    DOCKERFORGE_VAR_DIR=TMP,
    DOCKERFORGE_OUTBOUND_ALLOW="127.0.0.0/8",
    CELERY_TASK_ALWAYS_EAGER="1",
    ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
)
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

import docker  # noqa: E402 - the benchmark's baseline is the raw SDK
from asgiref.sync import async_to_sync  # noqa: E402
from channels.testing import WebsocketCommunicator  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

SOCKET = "unix:///var/run/docker.sock"
LINES = 10_000
RUNS = 10
ROUND_TRIPS = 50
LABEL = {"dockerforge.bench": f"streams-{os.getpid()}"}


def setup_rows(ct):
    from apps.accounts.models import ApiToken, Membership, Team
    from apps.containers.models import Container
    from apps.core.roles import Role
    from apps.hosts.models import DockerHost

    call_command("migrate", verbosity=0, interactive=False)
    team = Team.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user("bench", password="bench-pw-1")
    Membership.objects.create(user=user, team=team, role=Role.OPERATOR)
    host = DockerHost.objects.create(team=team, name="local", url=SOCKET, status="up")
    container = Container.objects.create(team=team, host=host, docker_id=ct.id, name=ct.name, state="running", inspect=ct.attrs)
    _, token = ApiToken.issue(user, "bench")
    return user, container, token


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_logs(engine, ct, user, container) -> None:
    client = Client()
    client.force_login(user)
    url = f"/api/v1/containers/{container.pk}/logs/?tail={LINES}"
    api, raw_first, raw_full = [], [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        api.append(time.perf_counter() - start)
        assert response.status_code == 200 and len(response.json()["lines"]) == LINES, response.status_code
        start = time.perf_counter()
        stream = engine.api.logs(ct.id, tail=LINES, stream=True, timestamps=True)
        next(iter(stream))
        raw_first.append(time.perf_counter() - start)
        stream.close()
        start = time.perf_counter()
        data = engine.api.logs(ct.id, tail=LINES, timestamps=True)
        raw_full.append(time.perf_counter() - start)
        assert data.count(b"\n") == LINES
    a, f, w = median_ms(api), median_ms(raw_first), median_ms(raw_full)
    print(f"logs tail={LINES}: API (first byte = whole answer) median {a:.1f} ms")
    print(f"  raw SDK first chunk median {f:.1f} ms  -> ratio API/raw first byte {a / f:.1f}x")
    print(f"  raw SDK whole read  median {w:.1f} ms  -> ratio API/raw whole read {a / w:.1f}x")


def raw_round_trips(engine, ct) -> list[float]:
    exec_id = engine.api.exec_create(ct.id, ["sh"], stdin=True, tty=True)["Id"]
    sock = engine.api.exec_start(exec_id, socket=True, tty=True)._sock
    sock.settimeout(10)
    engine.api.exec_resize(exec_id, height=24, width=80)  # as the console does
    times = []
    try:
        time.sleep(0.2)
        sock.recv(65536)  # the prompt
        for i in range(ROUND_TRIPS):
            marker = f"rt{i}x".encode()
            start = time.perf_counter()
            sock.sendall(b"echo " + marker + b"\n")
            got = b""
            while b"\n" + marker not in got:
                got += sock.recv(65536)
            times.append(time.perf_counter() - start)
    finally:
        sock.sendall(b"\x04")
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    return times


async def consumer_round_trips(container, token) -> list[float]:
    from dockerforge.asgi import application

    comm = WebsocketCommunicator(application, f"/ws/containers/{container.pk}/exec/?cmd=sh&rows=24&cols=80",
                                 headers=[(b"authorization", f"Token {token}".encode())])
    connected, code = await comm.connect(timeout=10)
    assert connected, code
    assert (await comm.receive_json_from(timeout=10))["type"] == "ready"
    times = []
    try:
        await comm.receive_output(timeout=5)  # the prompt
        for i in range(ROUND_TRIPS):
            marker = f"rt{i}x".encode()
            start = time.perf_counter()
            await comm.send_to(bytes_data=b"echo " + marker + b"\n")
            got = b""
            while b"\n" + marker not in got:
                got += (await comm.receive_output(timeout=10)).get("bytes") or b""
            times.append(time.perf_counter() - start)
    finally:
        await comm.disconnect()
    return times


def main() -> None:
    engine = docker.DockerClient(base_url=SOCKET, version="1.41", timeout=30)
    script = f"i=0; while [ $i -lt {LINES} ]; do echo \"line $i of the benchmark log with some text\"; i=$((i+1)); done; sleep 600"
    ct = engine.containers.run("dockerforge/busybox:test", ["sh", "-c", script], detach=True, labels=LABEL)
    try:
        deadline = time.monotonic() + 60
        while engine.api.logs(ct.id, tail=1).strip() != f"line {LINES - 1} of the benchmark log with some text".encode():
            assert time.monotonic() < deadline, "the container did not write its lines"
            time.sleep(0.1)
        ct.reload()
        user, container, token = setup_rows(ct)
        bench_logs(engine, ct, user, container)
        raw = raw_round_trips(engine, ct)
        ours = async_to_sync(consumer_round_trips)(container, token)
        print(f"exec echo round trip ({ROUND_TRIPS}): consumer median {median_ms(ours):.2f} ms "
              f"(p95 {sorted(ours)[int(len(ours) * 0.95) - 1] * 1000:.2f} ms), raw socket median {median_ms(raw):.2f} ms "
              f"-> ratio {statistics.median(ours) / statistics.median(raw):.1f}x")
    finally:
        ct.remove(force=True)
        engine.close()


if __name__ == "__main__":
    main()
