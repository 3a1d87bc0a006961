"""Real containers on the shared engine, labelled with this run's id, and their mirror rows
(written directly: the mirror sync is another slice's and is tested there)."""

import time

import pytest

from apps.containers.models import Container
from apps.hosts.models import DockerHost
from tests.helpers import unique

IMAGE = "dockerforge/busybox:test"


@pytest.fixture
def engine():
    import docker

    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="1.41", timeout=20)
    yield client
    client.close()


@pytest.fixture
def local_host(db, docker_socket, two_teams):
    return DockerHost.objects.create(team=two_teams["a"]["team"], name="local", url=docker_socket, status="up")


@pytest.fixture
def run_container(engine, local_host, test_labels):
    """Start a labelled container and mirror it into team A. Removed at the end."""
    started = []

    def run(command, *, tty=False, log_driver=None, name=None, wait_for: str | None = None):
        from docker.types import LogConfig

        kwargs = {"log_config": LogConfig(type=log_driver)} if log_driver else {}
        ct = engine.containers.run(IMAGE, command, detach=True, tty=tty, labels=dict(test_labels),
                                   name=name or unique("streams"), **kwargs)
        started.append(ct)
        if wait_for is not None:
            deadline = time.monotonic() + 10
            while wait_for.encode() not in engine.api.logs(ct.id) and time.monotonic() < deadline:
                time.sleep(0.05)
        ct.reload()
        return Container.objects.create(
            team=local_host.team, host=local_host, docker_id=ct.id, name=ct.name, image=IMAGE,
            state=ct.status, inspect=ct.attrs, labels=dict(test_labels),
        )

    yield run
    for ct in started:
        try:
            ct.remove(force=True)
        except Exception:  # noqa: BLE001 - already gone
            pass


def write_line(engine, container: Container, text: str) -> None:
    """Make the container's main process log a line now (writes to PID 1's stdout)."""
    engine.containers.get(container.docker_id).exec_run(["sh", "-c", f"echo '{text}' > /proc/1/fd/1"])
