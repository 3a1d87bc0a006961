"""Hosts API benchmark (runnable alone: `python bench/hosts_api.py`).

1. Time to register the local engine (unix://) through the API and test its connection.
2. Requests/second of `GET /api/v1/hosts/` with 100 hosts against a plain Django view
   running the same query, as a ratio, plus the query count per request, which must not
   grow with the number of hosts (no N+1).

Uses a throw-away SQLite database in a temp folder; touches nothing else.
"""

from __future__ import annotations

import os
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
)
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import include, path  # noqa: E402

N_HOSTS = 100
SECONDS = 3.0


def setup():
    from apps.accounts.models import ApiToken, Membership, Team, User

    call_command("migrate", verbosity=0)
    team = Team.objects.create(name="bench", slug="bench")
    root = User.objects.create_superuser("root", "root@example.test", "pw")
    viewer = User.objects.create_user("viewer", "v@example.test", "pw")
    Membership.objects.create(user=viewer, team=team, role="viewer")
    return team, ApiToken.issue(root, "bench")[1], ApiToken.issue(viewer, "bench")[1]


def register_and_test(team, token) -> tuple[float, float, str]:
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    started = time.perf_counter()
    resp = client.post("/api/v1/hosts/", {"team": team.pk, "name": "local", "url": "unix:///var/run/docker.sock"},
                       content_type="application/json")
    assert resp.status_code == 201, resp.content
    registered = time.perf_counter() - started
    result = client.post(f"/api/v1/hosts/{resp.json()['id']}/test/").json()
    total = time.perf_counter() - started
    return registered, total, result["info"].get("version") or result["error"]


def fill(team, count: int, start: int = 0) -> None:
    from apps.hosts.models import DockerHost

    DockerHost.objects.bulk_create(
        DockerHost(team=team, name=f"h{i:03}", url=f"tcp://127.0.0.1:{10000 + i}", status="up", engine_info={"cpus": 2})
        for i in range(start, start + count)
    )


def plain_view(request):
    """The baseline: the same rows, scoped the same way, serialized by hand."""
    from apps.hosts.models import DockerHost

    fields = ("id", "team_id", "name", "url", "description", "status", "engine_version", "last_checked_at", "engine_info")
    rows = list(DockerHost.objects.for_user(request.user).order_by("name").values(*fields)[:N_HOSTS])
    return JsonResponse({"count": len(rows), "results": rows})


# The portal's URLs plus the baseline view, so both go through the same middleware stack.
urlpatterns = [path("bench/plain-hosts/", plain_view), path("", include("dockerforge.urls"))]


def rate(fn) -> float:
    fn()  # warm up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        fn()
        done += 1
    return done / (time.perf_counter() - started)


def queries(fn) -> int:
    fn()  # warm up: the first request of a token also records its use
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def main() -> None:
    from apps.accounts.models import User

    team, root_token, viewer_token = setup()
    try:
        registered, total, version = register_and_test(team, root_token)
        print(f"register local engine: {registered * 1000:.1f} ms; register + test connection: {total * 1000:.1f} ms (Docker {version})")
    except Exception as exc:  # noqa: BLE001 - no engine on this machine: the list figures still count
        print(f"register + test skipped: {exc}")

    settings.ROOT_URLCONF = __name__  # this module: the portal's URLs plus the baseline
    api = Client(HTTP_AUTHORIZATION=f"Token {viewer_token}", HTTP_HOST="127.0.0.1")
    plain = Client(HTTP_HOST="127.0.0.1")
    plain.force_login(User.objects.get(username="viewer"))

    def api_get():
        resp = api.get("/api/v1/hosts/", {"page_size": N_HOSTS})
        assert resp.status_code == 200, resp.content[:300]

    def plain_get():
        assert plain.get("/bench/plain-hosts/").status_code == 200

    from apps.hosts.models import DockerHost

    fill(team, 10)
    q10 = queries(api_get)
    fill(team, N_HOSTS - DockerHost.objects.count(), start=10)
    q100 = queries(api_get)
    api_rps, plain_rps = rate(api_get), rate(plain_get)
    print(f"GET /api/v1/hosts/ with {DockerHost.objects.count()} hosts: {api_rps:.1f} req/s (token auth, DRF, serializer)")
    print(f"plain Django view, same query and rows: {plain_rps:.1f} req/s (session auth, values() + JsonResponse)")
    print(f"ratio plain/API: {plain_rps / api_rps:.2f}x")
    print(f"queries per API request: {q10} with 10 hosts, {q100} with {N_HOSTS} hosts")
    assert q10 == q100, "query count grows with the number of hosts (N+1)"


if __name__ == "__main__":
    try:
        main()
    finally:
        import shutil

        shutil.rmtree(TMP, ignore_errors=True)
