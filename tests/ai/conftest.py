import time

import pytest

from apps.containers.models import Container
from apps.hosts.models import DockerHost
from tests.helpers import unique

IMAGE = "dockerforge/busybox:test"


@pytest.fixture
def engine(docker_socket):
    import docker

    client = docker.DockerClient(base_url=docker_socket, version="1.41", timeout=30)
    yield client
    client.close()


@pytest.fixture
def local_host(db, docker_socket, two_teams):
    """Team A's host on the machine's engine."""
    return DockerHost.objects.create(team=two_teams["a"]["team"], name="local", url=docker_socket, status="up")


def mirror(host, ct) -> Container:
    """The container's mirror row, written directly (the sync is another app's)."""
    ct.reload()
    return Container.objects.create(team=host.team, host=host, docker_id=ct.id, name=ct.name, image=IMAGE, state=ct.status,
                                    exit_code=ct.attrs["State"].get("ExitCode"), labels=ct.labels)


@pytest.fixture
def replay(engine, test_labels):
    """Start containers that print a log and exit; all at once, then wait for them all."""
    started = []
    oom_expected: set[str] = set()

    def start(log: str, exit_code: int = 1, *, memory_mb: int | None = None, env: dict | None = None):
        script = 'printf "%s\\n" "$0" >&2; '
        if memory_mb:
            script += "head -c 400m /dev/zero | tail; "  # tail holds the whole "line": an OOM kill
        script += f"exit {exit_code}"
        kwargs = {"mem_limit": f"{memory_mb}m", "memswap_limit": f"{memory_mb}m"} if memory_mb else {}
        ct = engine.containers.run(IMAGE, ["sh", "-c", script, log], detach=True, labels=dict(test_labels),
                                   name=unique("ai"), environment=env or {}, **kwargs)
        started.append(ct)
        if memory_mb:
            oom_expected.add(ct.id)
        return ct

    def wait(containers, timeout: float = 60):
        deadline = time.monotonic() + timeout
        for ct in containers:
            while time.monotonic() < deadline:
                ct.reload()
                # dockerd records the cgroup's OOM event on its own; it can land just after the exit
                if ct.status == "exited" and (ct.id not in oom_expected or ct.attrs["State"]["OOMKilled"]):
                    break
                time.sleep(0.1)
            assert ct.status == "exited", f"{ct.name} did not exit"

    start.wait = wait
    yield start
    for ct in started:
        try:
            ct.remove(force=True)
        except Exception:  # noqa: BLE001 - already gone
            pass


@pytest.fixture
def fake_llm(settings):
    from .fake_llm import FakeLLM

    settings.AI_PROVIDER_BACKOFF = 0.01  # retries wait milliseconds here
    server = FakeLLM()
    yield server
    server.close()
