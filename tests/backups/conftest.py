"""Real-engine fixtures for backups: host rows for the machine's engine and the second engine,
labelled volumes and containers, and a way to run an Operation in-process."""

from __future__ import annotations

import pytest

from apps.activity.models import Operation
from tests.containers.resources.conftest import docker_client, local_host, second_host, team_a  # noqa: F401 - fixtures
from tests.helpers import unique

BASE_IMAGE = "dockerforge/busybox:test"


@pytest.fixture(autouse=True)
def backup_dir(settings, tmp_path):
    settings.BACKUP_DIR = str(tmp_path / "backups")
    return tmp_path / "backups"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """run(request_fn, *args) -> the finished Operation (tasks run eagerly on commit)."""

    def go(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = fn(*args, **kwargs)
        op = result.operation if hasattr(result, "operation") else result
        return Operation.objects.get(pk=op.pk)

    return go


@pytest.fixture
def engine(docker_socket):
    client = docker_client(docker_socket)
    yield client
    client.close()


@pytest.fixture
def make_volume(docker_socket, test_labels):
    """make(client=None) -> a new labelled volume's name (removed afterwards)."""
    made = []

    def make(client=None, name=None):
        c = client or docker_client(docker_socket)
        name = name or unique("bkv")
        c.volumes.create(name, labels=test_labels)
        made.append((c, name))
        return name

    yield make
    for c, name in made:
        for vol in (name,):
            try:
                c.volumes.get(vol).remove(force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass


def sh_in_volume(client, volume: str, script: str, labels: dict, image: str = BASE_IMAGE) -> str:
    """Run a shell script with the volume at /v (read-write); its output (fails on non-zero)."""
    out = client.containers.run(image, ["sh", "-c", script], volumes={volume: {"bind": "/v", "mode": "rw"}},
                                labels=labels, remove=True, stderr=True)
    return out.decode("utf-8", "replace")


# Every entry's type/mode/owner/size/mtime, every link target, every regular file's hash.
# The volume root's own mtime is left out: it is the mount point the restore writes into.
FINGERPRINT = r"""cd /v
stat -c '%n|%F|%a|%u|%g' .
find . -mindepth 1 -exec stat -c '%n|%F|%a|%u|%g|%s|%Y' {} + | sort
find . -type l | sort | while read -r f; do echo "$f -> $(readlink "$f")"; done
find . -type f -exec sha256sum {} + | sort -k2
"""


def fingerprint(client, volume: str, labels: dict, image: str = BASE_IMAGE) -> list[str]:
    return sh_in_volume(client, volume, FINGERPRINT, labels, image).splitlines()
