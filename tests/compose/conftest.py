import subprocess
import uuid

import pytest

from apps.hosts.models import DockerHost
from tests.helpers import RUN_ID, TEST_LABEL


@pytest.fixture(autouse=True)
def _compose_settings(settings, tmp_path):
    settings.COMPOSE_STACKS_DIR = tmp_path / "stacks"
    settings.COMPOSE_REGISTRY_CHECK = False  # no registry is reachable here; tests never leave 127.0.0.1
    yield settings


@pytest.fixture
def project_name():
    """Compose project names derived from the run id (cleanup finds them by label too)."""
    return f"df{RUN_ID}{uuid.uuid4().hex[:6]}".lower().replace("_", "")


def busybox_stack(run_label: str = RUN_ID, extra_env: str = "") -> str:
    return f"""services:
  db:
    image: dockerforge/busybox:test
    pull_policy: never
    command: ["sleep", "3600"]
    labels:
      {TEST_LABEL}: "{run_label}"
    volumes:
      - data:/data
    networks: [back]
  web:
    image: dockerforge/busybox:test
    pull_policy: never
    command: ["sh", "-c", "echo token=$$TOKEN; sleep 3600"]
    environment:
      TOKEN: ${{SECRET_TOKEN:-none}}{extra_env}
    labels:
      {TEST_LABEL}: "{run_label}"
    depends_on: [db]
    networks: [back]
networks:
  back:
    labels:
      {TEST_LABEL}: "{run_label}"
volumes:
  data:
    labels:
      {TEST_LABEL}: "{run_label}"
"""


@pytest.fixture
def local_host(docker_socket, two_teams):
    return DockerHost.objects.create(team=two_teams["a"]["team"], name="local", url=docker_socket)


@pytest.fixture
def compose_down():
    """`docker-compose down -v` for every (folder, project) registered, even when a test fails."""
    stacks: list[tuple[str, str]] = []
    yield lambda folder, name: stacks.append((str(folder), name))
    for folder, name in stacks:
        subprocess.run(["docker-compose", "-p", name, "down", "-v", "--remove-orphans"], cwd=folder,
                       capture_output=True, timeout=120)
