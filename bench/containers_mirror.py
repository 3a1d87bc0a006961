"""Containers mirror benchmark (runnable alone: `python bench/containers_mirror.py`).

1. Mirror sync of 200 containers (created with the docker CLI, labelled, removed at the end)
   against one `GET /containers/json?all=1`: first sync (inspects everything) and steady-state
   resync (inspects only what changed), as ratios.
2. Container list page and API with 1,000 mirrored containers over 5 hosts (rows written
   directly): median server time and queries per request (target < 50 ms, constant count).
3. Event propagation from `docker start` (the CLI, as a person would run it) to the team
   group message the WebSocket consumer forwards: median and p95, with a running listener
   thread and the Redis channel layer (a throw-away prefix).

Needs the local engine (/var/run/docker.sock) and, for 3, Redis on 127.0.0.1:6379.
Uses a throw-away SQLite database in a temp folder unless DATABASE_URL is set.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="dockerforge-bench-")
RUN = f"bench-{uuid.uuid4().hex[:8]}"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")
os.environ.update(DJANGO_SETTINGS_MODULE="dockerforge.settings", DOCKERFORGE_VAR_DIR=TMP,
                  CELERY_TASK_ALWAYS_EAGER="1", REDIS_URL="redis://127.0.0.1:6379/0", DOCKERFORGE_REDIS_PREFIX=RUN)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

SOCKET = "unix:///var/run/docker.sock"
IMAGE = "dockerforge/busybox:test"
LABEL = f"dockerforge.bench={RUN}"
N_SYNC = 200
N_ROWS, N_HOSTS = 1000, 5
REQUESTS = 30
STARTS = 20


def docker(*args: str) -> str:
    return subprocess.run(["docker", "-H", SOCKET, *args], check=True, capture_output=True, text=True).stdout.strip()


def median_time(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def setup():
    from apps.accounts.models import Membership, Team, User
    from apps.hosts.models import DockerHost

    call_command("migrate", verbosity=0)
    team = Team.objects.create(name="bench", slug="bench")
    viewer = User.objects.create_user("viewer", "v@example.test", "pw")
    Membership.objects.create(user=viewer, team=team, role="viewer")
    host = DockerHost.objects.create(team=team, name="local", url=SOCKET, status="up")
    return team, viewer, host


def bench_sync(host) -> None:
    from apps.containers import sync
    from apps.engine import mirror as engine
    from apps.hosts.services import client_for

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: docker("create", "--label", LABEL, IMAGE, "true"), range(N_SYNC)))
    client = client_for(host)
    try:
        total = len(engine.list_containers(client))
        listing = median_time(lambda: engine.list_containers(client), 9)
        t = time.perf_counter()
        sync.sync_host(host, client=client)
        first = time.perf_counter() - t
        steady = median_time(lambda: sync.sync_host(host, client=client), 5)
    finally:
        client.close()
    print(f"1. sync of {total} containers ({N_SYNC} created for the bench):")
    print(f"   GET /containers/json?all=1   {listing * 1000:8.1f} ms (median)")
    print(f"   first sync (inspect all)     {first * 1000:8.1f} ms   ratio {first / listing:6.1f}x")
    print(f"   steady resync                {steady * 1000:8.1f} ms   ratio {steady / listing:6.1f}x")


def bench_pages(team, viewer) -> None:
    from apps.accounts.models import ApiToken
    from apps.containers.models import Container
    from apps.hosts.models import DockerHost

    hosts = [DockerHost.objects.create(team=team, name=f"h{i}", url="tcp://127.0.0.1:1", status="up") for i in range(N_HOSTS)]
    Container.objects.bulk_create(
        Container(team=team, host=hosts[i % N_HOSTS], docker_id=uuid.uuid4().hex * 2, name=f"c-{i:04d}", image=IMAGE,
                  state="running" if i % 3 else "exited", labels={"app": f"a{i % 10}"}, ports=[{"private": 80, "protocol": "tcp", "public": None, "host_ip": ""}])
        for i in range(N_ROWS)
    )
    page = Client(HTTP_HOST="127.0.0.1")
    page.force_login(viewer)
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {ApiToken.issue(viewer, 'bench')[1]}")
    print(f"2. {N_ROWS} mirrored containers over {N_HOSTS} hosts (+ the local host's), {REQUESTS} requests each:")
    for label, client, url in (("page /containers/", page, "/containers/"), ("page, filtered+sorted", page, "/containers/?state=running&label=app%3Da3&ordering=-name"),
                               ("API /api/v1/containers/", api, "/api/v1/containers/"), ("API, filtered+sorted", api, "/api/v1/containers/?state=running&label=app%3Da3&ordering=-name")):
        client.get(url)  # warm up
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        queries = len(ctx.captured_queries)  # now: the next request clears the log
        ms = median_time(lambda c=client, u=url: c.get(u), REQUESTS) * 1000
        print(f"   {label:28s} median {ms:6.1f} ms   {queries} queries/request")


def bench_events(team, host) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from apps.containers.listener import HostListener
    from apps.core.broadcast import team_group

    layer = get_channel_layer()
    cid = docker("create", "--label", LABEL, IMAGE, "sleep", "600")
    listener = HostListener(host.pk).start()
    assert listener.connected.wait(60), "listener did not connect"
    latencies = []

    async def one_round() -> float:
        channel = await layer.new_channel()
        await layer.group_add(team_group(team.pk), channel)
        try:
            started = time.perf_counter()
            proc = subprocess.Popen(["docker", "-H", SOCKET, "start", cid], stdout=subprocess.DEVNULL)
            while True:
                message = await layer.receive(channel)
                if message.get("payload", {}).get("kind") == "container.start":
                    elapsed = time.perf_counter() - started
                    break
            proc.wait()
            return elapsed
        finally:
            await layer.group_discard(team_group(team.pk), channel)

    try:
        for _ in range(STARTS):
            latencies.append(async_to_sync(one_round)())
            docker("kill", cid)
            time.sleep(0.2)  # let die/kill events settle before the next round
    finally:
        listener.stop()
    latencies.sort()
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(f"3. docker start -> team group message, {STARTS} starts (includes the CLI's own start-up):")
    print(f"   median {statistics.median(latencies) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms")


def cleanup() -> None:
    ids = docker("ps", "-aq", "--filter", f"label={LABEL}").split()
    if ids:
        docker("rm", "-f", *ids)


def main() -> None:
    team, viewer, host = setup()
    try:
        bench_sync(host)
        bench_pages(team, viewer)
        bench_events(team, host)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
