"""Container lifecycle benchmark (runnable alone: `python bench/containers_lifecycle.py`).

Time of a stop/start round trip through the Operation path (request_stop/request_start:
authorize, Operation row, eager task, engine call, mirror refresh, event, audit) against the
raw SDK calls on the same container, as a ratio. Needs the local engine at
/var/run/docker.sock and the image dockerforge/busybox:test (scripts/services.sh builds it).
Uses a throw-away SQLite database; removes the container it made.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
os.environ.pop("REDIS_URL", None)  # in-process: measure our path, not the broker

from bench._setup import django_setup  # noqa: E402

django_setup()

import logging  # noqa: E402

import docker  # noqa: E402 - the bench compares against the SDK itself

from apps.accounts.models import Membership, Team, User  # noqa: E402
from apps.containers import lifecycle, sync  # noqa: E402
from apps.hosts.models import DockerHost  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
IMAGE = "dockerforge/busybox:test"
LOOP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    logging.getLogger("celery").setLevel(logging.WARNING)
    sdk = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="1.41", timeout=30)
    team = Team.objects.create(name="bench", slug=f"bench-{uuid.uuid4().hex[:6]}")
    user = User.objects.create_user(username=f"bench-{uuid.uuid4().hex[:6]}", password="x")
    Membership.objects.create(user=user, team=team, role="operator")
    host = DockerHost.objects.create(team=team, name="local", url="unix:///var/run/docker.sock", status="up")
    container = sdk.containers.run(IMAGE, LOOP, detach=True, name=f"bench-lifecycle-{uuid.uuid4().hex[:6]}",
                                   labels={"dockerforge.bench": "1"})
    try:
        row = sync.refresh_container(host, container.id)

        def through_operations():
            for op in (lifecycle.request_stop(user, row, timeout=5), lifecycle.request_start(user, row)):
                op.refresh_from_db()
                assert op.status == "succeeded", op.error

        def raw_sdk():
            sdk.api.stop(container.id, timeout=5)
            sdk.api.start(container.id)

        through_operations()
        raw_sdk()  # warm both paths
        ours = [timed(through_operations) for _ in range(ROUNDS)]
        raw = [timed(raw_sdk) for _ in range(ROUNDS)]
    finally:
        container.remove(force=True)
        sdk.close()
    m_ours, m_raw = statistics.median(ours), statistics.median(raw)
    print(f"stop+start round trip, {ROUNDS} rounds (median):")
    print(f"  through Operations: {m_ours * 1000:8.1f} ms")
    print(f"  raw SDK calls:      {m_raw * 1000:8.1f} ms")
    print(f"  ratio:              {m_ours / m_raw:8.2f}x  (overhead {1000 * (m_ours - m_raw):.1f} ms per round trip)")


if __name__ == "__main__":
    main()
