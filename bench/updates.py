"""Bench: update checks for 100 containers, and the downtime of one update.

Runnable alone: `python bench/updates.py` (needs dockerd on /var/run/docker.sock,
`docker-registry` and the image dockerforge/busybox:test). Starts a throw-away registry on a
free 127.0.0.1 port and pushes bench/app:1.0.0 and 1.0.1, then:
- checks: 100 containers of one image (`docker create` only, different names) checked in one
  round (one RegistryClient per team: tokens, tags and digests cached per registry/repository)
  against a baseline that asks the registry afresh for every container; wall time and
  registry requests per container for both, and the ratio;
- downtime: a container serving HTTP (busybox httpd) on a published 127.0.0.1 port is updated
  from 1.0.0 to 1.0.1 through request_update (task in-process); a poller GETs every 5 ms and
  the downtime is the gap between the last answer of the old image and the first of the new.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
from _setup import django_setup  # noqa: E402

CONTAINERS = 100
BASE = "dockerforge/busybox:test"
LABEL = "dockerforge.bench"
RUN = uuid.uuid4().hex[:8]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry() -> tuple[subprocess.Popen, str, Path]:
    root = Path(tempfile.mkdtemp(prefix="df-bench-upd-"))
    port = free_port()
    (root / "config.yml").write_text(
        f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(["docker-registry", "serve", str(root / "config.yml")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"127.0.0.1:{port}", root


def build_and_push(client, registry: str, tag: str) -> str:
    repo = f"{registry}/bench/app"
    dockerfile = (f"FROM {BASE}\nRUN mkdir /www && echo {tag} > /www/index.html\nLABEL {LABEL}={RUN}\nSTOPSIGNAL SIGKILL\n"
                  'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n')
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile.encode()))
    client.images.build(fileobj=io.BytesIO(buf.getvalue()), custom_context=True, tag=f"{repo}:{tag}", rm=True)
    for message in client.api.push(repo, tag=tag, stream=True, decode=True):
        if "error" in message:
            raise RuntimeError(message["error"])
    return f"{repo}:{tag}"


def bench_checks(client, host, ref: str) -> None:
    from apps.containers.models import Container
    from apps.containers.sync import sync_host
    from apps.updates import checks
    from apps.updates.models import UpdatePolicy
    from apps.updates.registry import RegistryClient

    for i in range(CONTAINERS):
        client.containers.create(ref, name=f"df-bench-upd-{RUN}-{i:03d}", labels={LABEL: RUN})
    sync_host(host)
    UpdatePolicy.objects.create(team=host.team, strategy="patch")
    rows = list(checks.checkable(Container.objects.filter(host=host, labels__has_key=LABEL)))
    assert len(rows) == CONTAINERS, len(rows)

    started = time.perf_counter()
    result = checks.check_containers(rows)
    cached = time.perf_counter() - started
    assert result.get("available") == CONTAINERS, result

    # Registry side only (no database writes), shared cache vs a fresh client per container.
    policy = checks.policy_for(rows[0])

    def evaluate_all(shared: bool) -> tuple[float, int]:
        started, made = time.perf_counter(), 0
        shared_client = RegistryClient(rows[0].team_id) if shared else None
        for row in rows:
            c = shared_client or RegistryClient(row.team_id)
            checks.evaluate(row, policy, c)
            if not shared:
                made += c.requests
                c.close()
        if shared_client:
            made = shared_client.requests
            shared_client.close()
        return time.perf_counter() - started, made

    cached_eval, cached_requests = evaluate_all(True)
    naive_eval, naive_requests = evaluate_all(False)
    print(f"check {CONTAINERS} containers (full round, results stored, {result['available']} update.available events): "
          f"{cached:.2f} s wall, {result['requests']} registry requests ({result['requests'] / CONTAINERS:.3f} per container)")
    print(f"  registry part only: cached {cached_eval:.2f} s ({cached_requests / CONTAINERS:.3f} req/container) vs "
          f"a fresh client per container {naive_eval:.2f} s ({naive_requests / CONTAINERS:.2f} req/container) "
          f"-> {naive_eval / cached_eval:.1f}x faster, {naive_requests / max(1, cached_requests):.0f}x fewer requests")


def bench_downtime(client, host, old: str, new: str) -> None:
    from apps.containers.models import Container
    from apps.containers.sync import sync_host
    from apps.updates import runs
    from apps.updates.models import UpdateRun

    port = free_port()
    c = client.containers.run(old, name=f"df-bench-upd-http-{RUN}", labels={LABEL: RUN}, detach=True,
                              ports={"8080/tcp": ("127.0.0.1", port)})
    url = f"http://127.0.0.1:{port}/index.html"
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    sync_host(host)
    row = Container.objects.get(host=host, docker_id=c.id)
    seen: list[tuple[float, str]] = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            try:
                body = urllib.request.urlopen(url, timeout=0.5).read().decode().strip()
                seen.append((time.perf_counter(), body))
            except OSError:
                pass
            time.sleep(0.005)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    op = runs.request_update(None, row, target=new, health_seconds=1.0)
    run = runs.wait_for(UpdateRun.objects.get(operation=op).pk, timeout=120)
    time.sleep(0.5)
    stop.set()
    thread.join()
    assert run.status == "succeeded", run.error
    last_old = max(t for t, body in seen if body == "1.0.0")
    first_new = min(t for t, body in seen if body == "1.0.1")
    print(f"update downtime (last answer of 1.0.0 -> first of 1.0.1): {(first_new - last_old) * 1000:.0f} ms "
          f"(health gate {1.0:g} s after start not counted; {len(seen)} answers polled)")


def main() -> None:
    if not shutil.which("docker-registry"):
        sys.exit("docker-registry is not installed")
    django_setup()
    import docker

    from apps.accounts.models import Team
    from apps.hosts.models import DockerHost

    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="1.41", timeout=120)
    proc, registry, root = start_registry()
    try:
        old = build_and_push(client, registry, "1.0.0")
        new = build_and_push(client, registry, "1.0.1")
        team = Team.objects.create(name=f"bench-{RUN}", slug=f"bench-{RUN}")
        host = DockerHost.objects.create(team=team, name="local", url="unix:///var/run/docker.sock", status="up")
        bench_checks(client, host, old)
        bench_downtime(client, host, old, new)
    finally:
        for container in client.containers.list(all=True, filters={"label": f"{LABEL}={RUN}"}):
            container.remove(force=True)
        for ref in (f"{registry}/bench/app:1.0.0", f"{registry}/bench/app:1.0.1"):
            try:
                client.images.remove(ref, force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
        client.close()
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
