"""An engine that goes away in the middle of an Operation: the Operation fails cleanly with
the engine's message, and the mirror row stays. Uses an engine of this test's own (never the
shared one, nor the session's TLS engine other tests still need)."""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from apps.activity.models import Operation
from apps.containers import lifecycle
from apps.containers.models import Container
from apps.hosts.models import DockerHost
from tests.fixtures.engines import _run, _umount_under, _wait_for, short_id
from tests.helpers import require_service

from .conftest import IGNORES_TERM, IMAGE

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class KillableEngine:
    """A dockerd on a unix socket with its own bridge and roots, which a test may SIGKILL
    (a crash: in-flight API calls drop at once). Its containerd, shims and container
    processes outlive it; `cleanup()` ends exactly those (everything under its root)."""

    def __init__(self):
        sid = short_id(f"kill{time.monotonic_ns()}")
        self.bridge = f"dfk{sid}"
        self.root = Path(tempfile.mkdtemp(prefix=f"dfk-{sid}-", dir="/tmp"))
        self.sock = self.root / "docker.sock"
        self.url = f"unix://{self.sock}"
        self.proc = None

    def start(self):
        import docker

        log = self.root / "dockerd.log"
        self.proc = subprocess.Popen(
            ["dockerd", "--host", self.url, "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
             "--pidfile", str(self.root / "docker.pid"), "--bridge", self.bridge, "--iptables=false", "--ip-masq=false"],
            stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
        )

        def ping():
            client = docker.DockerClient(base_url=self.url, version="1.41", timeout=2)
            try:
                client.ping()
            finally:
                client.close()

        _wait_for(ping, "the killable dockerd", 60, self.proc, log)

    def client(self):
        import docker

        return docker.DockerClient(base_url=self.url, version="1.41", timeout=30)

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)

    def cleanup(self) -> None:
        """SIGKILL every process started from this engine's root, and their descendants."""
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        for pid in _processes_under(str(self.root)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.3)  # let the kernel tear down their mounts and network namespaces


def _processes_under(root: str) -> set[int]:
    """Pids whose command line names `root` (containerd, shims), plus all their descendants."""
    parents, hits = {}, set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        if root in cmdline and pid != os.getpid():
            hits.add(pid)
    found = set(hits)
    while True:
        more = {pid for pid, ppid in parents.items() if ppid in found and pid not in found}
        if not more:
            return found
        found |= more


@pytest.fixture
def killable_engine(docker_socket, engine_client):
    if os.geteuid() != 0 or not shutil.which("dockerd"):
        require_service("a second dockerd (needs root and dockerd)", False)
    engine = KillableEngine()
    _run("ip", "link", "add", "name", engine.bridge, "type", "bridge")
    _run("ip", "link", "set", engine.bridge, "up")
    try:
        engine.start()
        with closing(engine.client()) as client:
            client.images.load(b"".join(engine_client.images.get(IMAGE).save(named=True)))
        yield engine
    finally:
        engine.cleanup()
        _umount_under(str(engine.root))
        shutil.rmtree(engine.root, ignore_errors=True)
        _run("ip", "link", "del", engine.bridge, check=False)


def test_engine_killed_during_a_stop_fails_the_operation_cleanly(two_teams, killable_engine, make_container, api_client):
    a = two_teams["a"]
    host = DockerHost.objects.create(team=a["team"], name="doomed", url=killable_engine.url, status="up")
    with closing(killable_engine.client()) as client:
        row = make_container(host=host, client=client, command=IGNORES_TERM)
    assert row.state == "running"

    # The stop waits up to 60 s for a container that ignores SIGTERM; the engine dies meanwhile.
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("op", lifecycle.request_stop(a["operator"], row, timeout=60)))
    worker.start()
    deadline = time.monotonic() + 20
    while not Operation.objects.filter(status="running").exists():
        assert time.monotonic() < deadline, "the stop never started"
        time.sleep(0.05)
    time.sleep(1.0)
    killed_at = time.monotonic()
    killable_engine.kill()
    worker.join(30)
    assert not worker.is_alive()
    assert time.monotonic() - killed_at < 10  # failed promptly, not after the 60 s grace

    op = Operation.objects.get(pk=outcome["op"].pk)
    assert op.status == "failed"
    assert op.error.startswith("TransientEngineError: Cannot reach host doomed"), op.error
    assert "Traceback" not in op.error
    assert "Stopping" in op.log
    # The mirror keeps the row as it was last seen (the sync/listener corrects it later).
    row.refresh_from_db()
    assert row.removed_at is None and row.state == "running"

    # Asking again while the engine is down: accepted, then a clean failure, never a 500.
    resp = api_client(a["operator"]).post(f"/api/v1/containers/{row.pk}/start/", {}, format="json")
    assert resp.status_code == 202
    op = Operation.objects.get(pk=resp.json()["operation"])
    assert op.status == "failed" and "host doomed" in op.error
    assert Container.objects.filter(pk=row.pk, removed_at__isnull=True).exists()
