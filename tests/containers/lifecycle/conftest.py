import pytest

from apps.containers.sync import refresh_container
from apps.hosts.models import DockerHost
from tests.helpers import unique

IMAGE = "dockerforge/busybox:test"
# Exits on SIGTERM, so stops are quick.
LOOP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
# PID 1 without a handler ignores SIGTERM: `stop` waits its whole grace period.
IGNORES_TERM = ["sh", "-c", "while true; do sleep 0.2; done"]


@pytest.fixture
def engine_client(docker_socket):
    import docker

    client = docker.DockerClient(base_url=docker_socket, version="1.41", timeout=30)
    yield client
    client.close()


@pytest.fixture
def local_host(two_teams, docker_socket):
    """Team A's host on the machine's engine (a unix:// row, as a superuser would add it)."""
    return DockerHost.objects.create(team=two_teams["a"]["team"], name="local", url=docker_socket, status="up")


@pytest.fixture
def make_container(engine_client, test_labels, local_host):
    """A labelled test container on the shared engine and its mirror row."""

    def make(*, host=None, client=None, command=LOOP, start=True, **kwargs):
        client = client or engine_client
        labels = {**test_labels, **kwargs.pop("labels", {})}
        container = client.containers.create(IMAGE, command, name=kwargs.pop("name", unique("lc")), labels=labels, **kwargs)
        if start:
            container.start()
        return refresh_container(host or local_host, container.id)

    return make
