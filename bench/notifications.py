"""Notifications benchmark (runnable alone: `python bench/notifications.py`).

1. Routing: events/second from the event bus (`events.publish`) to queued deliveries —
   routes matched, notification-log rows written, the group flushed and a Delivery queued —
   median over a 10,000-event burst, against the bus alone (no subscriber) as baseline.
2. End to end: latency from `events.publish` to receipt by a real webhook server on
   127.0.0.1 (median, p95), Celery in-process.

Throw-away SQLite database (or DATABASE_URL) in a temp folder; touches nothing else.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.pop("REDIS_URL", None)
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
os.environ.setdefault("LOG_LEVEL", "WARNING")  # not one log line per in-process task
from _setup import django_setup  # noqa: E402

django_setup()

from django.conf import settings  # noqa: E402

from apps.core import events  # noqa: E402
from apps.notifications import services  # noqa: E402
from apps.notifications.models import Channel, Delivery, Route  # noqa: E402

BURST = int(os.environ.get("BENCH_EVENTS", "10000"))
E2E = int(os.environ.get("BENCH_E2E_EVENTS", "300"))
HOSTS = 100


class Host:
    def __init__(self, pk):
        self.pk, self.name = pk, f"host-{pk:03}"


def setup():
    from apps.accounts.models import Team

    settings.NOTIFICATIONS_GROUP_WAIT = 0
    settings.NOTIFICATIONS_GROUP_INTERVAL = 0
    team = Team.objects.create(name="bench", slug="bench")
    return team


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def publish_burst(team, n, label):
    """Publish n events one by one (autocommit: fan-out runs at once); per-event times."""
    times = []
    started = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        events.publish("container.died", team, severity="error", host=Host(i % HOSTS),
                       target={"kind": "container", "id": i, "name": f"c{i}", "labels": {"env": "prod"}},
                       summary=f"{label} {i}", url=f"/containers/{i}/")
        times.append(time.perf_counter() - t)
    return times, time.perf_counter() - started


def routing(team):
    baseline, _ = publish_burst(team, min(BURST, 2000), "baseline")  # the bus alone: no routes yet
    channels = [Channel.objects.create(team=team, name=f"hook{i}", kind="webhook", url="http://127.0.0.1:9/x") for i in range(2)]
    for i, (kinds, labels) in enumerate(((["container.*"], {"env": "prod"}), (["host.*"], {}), (["*"], {"env": "staging"}))):
        route = Route.objects.create(team=team, name=f"r{i}", kinds=kinds, labels=labels, group_by=["host"])
        route.channels.set(channels if i == 0 else channels[:1])
    queued = []
    original = services._queue_delivery
    services._queue_delivery = queued.append  # measure up to the queue, not the sending
    try:
        times, total = publish_burst(team, BURST, "routed")
    finally:
        services._queue_delivery = original
    deliveries = Delivery.objects.filter(pk__in=queued).count()
    med, base = statistics.median(times), statistics.median(baseline)
    print(f"routing: {BURST} events -> {deliveries} queued deliveries (2 channels each) in {total:.1f} s")
    print(f"routing: median {1 / med:.0f} events/s per event ({med * 1000:.2f} ms), p95 {percentile(times, .95) * 1000:.2f} ms")
    print(f"bus alone (store + fan-out, no routes): median {1 / base:.0f} events/s ({base * 1000:.2f} ms)")
    print(f"ratio bus-alone/routed: {med / base:.2f}x")
    Route.objects.all().delete()
    Channel.objects.all().delete()


def end_to_end(team):
    received: dict[str, float] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            import json

            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            now = time.perf_counter()
            for note in body["notifications"]:
                for env in note["events"]:
                    received.setdefault(env["summary"], now)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    channel = Channel.objects.create(team=team, name="e2e", kind="webhook", signing_secret="s",
                                     url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    route = Route.objects.create(team=team, name="e2e", group_by=["host"])
    route.channels.set([channel])
    sent: dict[str, float] = {}
    for i in range(E2E):
        summary = f"e2e {i}"
        sent[summary] = time.perf_counter()
        events.publish("container.died", team, severity="error", host=Host(i), summary=summary)
    deadline = time.monotonic() + 10
    while len(received) < E2E and time.monotonic() < deadline:
        time.sleep(0.01)
    server.shutdown()
    latencies = [(received[k] - sent[k]) * 1000 for k in sent if k in received]
    print(f"end to end (publish -> webhook receipt, in-process Celery): {len(latencies)}/{E2E} received, "
          f"median {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, .95):.1f} ms")


def main():
    team = setup()
    routing(team)
    end_to_end(team)


if __name__ == "__main__":
    main()
