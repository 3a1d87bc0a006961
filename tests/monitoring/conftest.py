import time
import uuid

import pytest

from apps.containers.models import Container
from apps.hosts.models import DockerHost
from tests.helpers import unique
from tests.ws.conftest import in_memory_layer  # noqa: F401 - the chart-stream tests use it

IMAGE = "dockerforge/busybox:test"


@pytest.fixture
def engine(docker_socket):
    """The SDK client on the shared engine, for setting up test containers."""
    import docker

    client = docker.DockerClient(base_url=docker_socket, version="1.41", timeout=30)
    yield client
    client.close()


@pytest.fixture
def local_host(db, make_team, engine, docker_socket):
    """A team and a host row for the machine's own engine, facts as the sweep records them."""
    info = engine.info()
    team = make_team(f"mon-{uuid.uuid4().hex[:6]}")
    return DockerHost.objects.create(
        team=team, name="local", url=docker_socket, status=DockerHost.Status.UP, api_version="1.41",
        engine_info={"memory_bytes": info["MemTotal"], "cpus": info["NCPU"]},
    )


def mirror(host: DockerHost, container) -> Container:
    """The mirror row the containers app's sync would write for a running container."""
    container.reload()
    labels = container.labels or {}
    return Container.objects.create(
        team_id=host.team_id, host=host, docker_id=container.id, name=container.name,
        image=container.attrs["Config"]["Image"], labels=labels, state=Container.State.RUNNING,
        compose_project=labels.get("com.docker.compose.project", ""),
    )


@pytest.fixture
def start_container(engine, test_labels):
    """Start a labelled busybox container (removed at teardown, and by the session's sweep)."""
    started = []

    def start(command="sleep 600", **kwargs):
        labels = {**test_labels, **kwargs.pop("labels", {})}
        c = engine.containers.run(IMAGE, command, detach=True, labels=labels, name=unique("mon"), **kwargs)
        started.append(c)
        return c

    yield start
    for c in started:
        try:
            c.remove(force=True)
        except Exception:  # noqa: BLE001 - already gone
            pass


def wait_for(predicate, timeout=10.0, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")
