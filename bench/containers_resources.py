"""Bench: image pull through the Operation vs the `docker pull` CLI, and volume browse latency.

Runnable alone: `python bench/containers_resources.py` (needs dockerd on /var/run/docker.sock,
`docker-registry` and the image dockerforge/busybox:test). Starts a throw-away registry on a
free 127.0.0.1 port, pushes an image with its own 2 MB layer, then:
- pull: median wall time of N pulls (image removed before each) through request_pull + the
  task run in-process, against `docker pull` of the same reference; prints the ratio;
- browse: median and p95 of 20 listings of a volume's root through the helper container.
"""

from __future__ import annotations

import io
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_setup  # noqa: E402

PULLS = 5
BROWSES = 20
BASE = "dockerforge/busybox:test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry() -> tuple[subprocess.Popen, str, Path]:
    root = Path(tempfile.mkdtemp(prefix="df-bench-reg-"))
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


def push_image(client, address: str) -> str:
    ref = f"{address}/bench/app:1"
    dockerfile = f"FROM {BASE}\nRUN head -c 2000000 /dev/urandom > /blob\nLABEL dockerforge.bench=1\n"
    client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=ref, rm=True)
    for line in client.api.push(f"{address}/bench/app", tag="1", stream=True, decode=True):
        if "error" in line:
            raise RuntimeError(line["error"])
    return ref


def remove(client, ref: str) -> None:
    try:
        client.images.remove(ref, force=True)
    except Exception:  # noqa: BLE001
        pass


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> None:
    django_setup()
    import docker
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Membership, Team
    from apps.activity.models import Operation
    from apps.containers import images, volumes
    from apps.containers.sync import refresh_kind
    from apps.hosts.models import DockerHost
    from dockerforge.celery import app

    app.conf.task_always_eager = True
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="1.41", timeout=60)
    proc, address, root = start_registry()
    volume_name = f"df-bench-{int(time.time())}"
    try:
        ref = push_image(client, address)
        team = Team.objects.create(name="bench", slug=f"bench-{int(time.time())}")
        user = get_user_model().objects.create_user("bench-" + str(int(time.time())), password="x")
        Membership.objects.create(user=user, team=team, role="operator")
        host = DockerHost.objects.create(team=team, name="local", url="unix:///var/run/docker.sock", status="up")

        cli, operation = [], []
        for _ in range(PULLS):
            remove(client, ref)
            started = time.perf_counter()
            subprocess.run(["docker", "pull", "-q", ref], check=True, capture_output=True)
            cli.append(time.perf_counter() - started)
            remove(client, ref)
            started = time.perf_counter()
            op = images.request_pull(user, host, ref)
            operation.append(time.perf_counter() - started)
            op.refresh_from_db()
            assert op.status == Operation.Status.SUCCEEDED, op.error
        print(f"pull {ref} ({PULLS} runs, 2 MB layer + cached base):")
        print(f"  docker pull CLI      median {median_ms(cli):7.1f} ms")
        print(f"  Operation (in-proc)  median {median_ms(operation):7.1f} ms   ratio {median_ms(operation) / median_ms(cli):.2f}x")

        client.volumes.create(volume_name, labels={"dockerforge.bench": "1"})
        filler = client.containers.run(BASE, ["sh", "-c", "for i in $(seq 1 200); do echo $i > /v/file-$i; done; mkdir /v/dir"],
                                       volumes={volume_name: {"bind": "/v", "mode": "rw"}}, remove=True)
        del filler
        volume = refresh_kind(host, "volumes", key=volume_name)
        volumes.list_directory(user, volume, "")  # provisions the helper image once
        times = []
        for _ in range(BROWSES):
            started = time.perf_counter()
            listing = volumes.list_directory(user, volume, "")
            times.append(time.perf_counter() - started)
        assert len(listing.entries) == 201
        times.sort()
        print(f"volume browse (201 entries, {BROWSES} runs): median {median_ms(times):.1f} ms, p95 {times[int(0.95 * len(times)) - 1] * 1000:.1f} ms")
    finally:
        remove(client, ref if "ref" in locals() else "")
        try:
            client.volumes.get(volume_name).remove(force=True)
        except Exception:  # noqa: BLE001
            pass
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
        client.close()


if __name__ == "__main__":
    main()
