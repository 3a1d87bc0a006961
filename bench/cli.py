"""CLI benchmark (runnable alone: `python bench/cli.py`).

Start-up time of the `dockerforge` console script:
1. `dockerforge --help` (parser built, no network);
2. `dockerforge ps -a --json` against a live daphne server mirroring the local engine with
   1,000 extra containers made with `docker create` (labelled, so nothing runs; removed at
   the end), every row fetched and printed;
against `docker ps -a` on that engine (ratio). Medians of several runs.

Needs the local engine (/var/run/docker.sock) and the image dockerforge/busybox:test.
Uses a throw-away SQLite database in a temp folder unless DATABASE_URL is set.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="dockerforge-bench-cli-")
RUN = f"bench-{uuid.uuid4().hex[:8]}"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")
os.environ.update(DJANGO_SETTINGS_MODULE="dockerforge.settings", DOCKERFORGE_VAR_DIR=TMP, CELERY_TASK_ALWAYS_EAGER="1",
                  DOCKERFORGE_OUTBOUND_ALLOW="127.0.0.0/8")

SOCKET = "unix:///var/run/docker.sock"
IMAGE = "dockerforge/busybox:test"
LABEL = f"dockerforge.bench={RUN}"
N_CONTAINERS = int(os.environ.get("BENCH_CLI_CONTAINERS", "1000"))
RUNS = 7
SCRIPT = Path(sys.executable).parent / "dockerforge"


def docker(*args: str) -> str:
    return subprocess.run(["docker", "-H", SOCKET, *args], check=True, capture_output=True, text=True).stdout.strip()


def cli() -> list[str]:
    return [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "dockerforge_cli.main"]


def median_seconds(cmd: list[str], env: dict | None = None, runs: int = RUNS) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        out = proc.stdout
    return statistics.median(times), out


def create_containers() -> None:
    def make(i: int) -> None:
        docker("create", "--label", LABEL, "--name", f"{RUN}-{i}", IMAGE, "true")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, range(N_CONTAINERS)))


def remove_containers() -> None:
    ids = docker("ps", "-aq", "--filter", f"label={LABEL}").split()
    for start in range(0, len(ids), 200):
        subprocess.run(["docker", "-H", SOCKET, "rm", "-f", *ids[start:start + 200]], capture_output=True)


def prepare_server_data() -> str:
    """Migrate, make a superuser with a token, register the engine and mirror it."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from apps.accounts.models import ApiToken, Membership, Team
    from apps.containers.sync import sync_host
    from apps.hosts.models import DockerHost

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_superuser("bench", "bench@example.test", "bench-pw-1")
    team = Team.objects.create(name="Bench", slug="bench")
    Membership.objects.create(user=user, team=team, role="admin")
    host = DockerHost.objects.create(team=team, name="local", url=SOCKET, status="up")
    sync_host(host, full=True)
    _, raw = ApiToken.issue(user, "bench")
    from django.db import connections

    connections.close_all()  # the server process writes next
    return raw


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "false", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "dockerforge.asgi:application"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(Path(TMP) / "daphne.log", "w"),
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit(f"daphne did not start: {(Path(TMP) / 'daphne.log').read_text()[-2000:]}")


def main() -> int:
    server = None
    try:
        t0 = time.perf_counter()
        create_containers()
        print(f"created {N_CONTAINERS} containers with docker create in {time.perf_counter() - t0:.1f}s", flush=True)
        token = prepare_server_data()
        port = free_port()
        server = start_server(port)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": TMP, "NO_COLOR": "1",
               "DOCKERFORGE_URL": f"http://127.0.0.1:{port}", "DOCKERFORGE_TOKEN": token}
        help_s, _ = median_seconds([*cli(), "--help"], env)
        ps_s, out = median_seconds([*cli(), "ps", "-a", "--json"], env)
        rows = json.loads(out)
        ours = sum(1 for r in rows if r["labels"].get("dockerforge.bench") == RUN)
        assert ours == N_CONTAINERS, f"the CLI listed {ours} of {N_CONTAINERS} bench containers"
        docker_s, docker_out = median_seconds(["docker", "-H", SOCKET, "ps", "-a"])
        docker_rows = len(docker_out.splitlines()) - 1
        baseline_s, _ = median_seconds([sys.executable, "-c", "pass"])
        print(f"python -c pass (interpreter start):      {baseline_s * 1000:7.1f} ms")
        print(f"dockerforge --help:                      {help_s * 1000:7.1f} ms")
        print(f"dockerforge ps -a --json ({len(rows)} rows): {ps_s * 1000:7.1f} ms")
        print(f"docker ps -a ({docker_rows} rows):              {docker_s * 1000:7.1f} ms")
        print(f"ratio ps --json / docker ps -a:          {ps_s / docker_s:7.2f}x")
        print(f"ratio --help / docker ps -a:             {help_s / docker_s:7.2f}x")
        return 0
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=10)
        remove_containers()
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
