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


# --- S3: moto's server mode as a real HTTP endpoint on 127.0.0.1 -------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    """http://127.0.0.1:PORT of a `moto_server` subprocess (stopped afterwards, by its pid)."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    server = Path(sys.executable).with_name("moto_server")
    if not server.exists():
        pytest.fail("moto_server is missing: install requirements-dev.txt (moto[server])")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start (exit {proc.poll()})")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def s3_plugin(tmp_path_factory, monkeypatch):
    """The `s3` entry point of the group dockerforge.backup_storage, as pyproject.toml declares it.
    An environment installed before the declaration (no re-install yet) gets the same entry
    through a dist-info on sys.path, so the registry still resolves it the plugin way."""
    import tomllib
    from importlib.metadata import entry_points
    from pathlib import Path

    from apps.backups.storage import backup_storage

    declared = tomllib.loads(Path("pyproject.toml").read_text())["project"]["entry-points"]["dockerforge.backup_storage"]
    if not any(ep.name == "s3" for ep in entry_points(group="dockerforge.backup_storage")):
        root = tmp_path_factory.mktemp("s3plugin")
        dist = root / "dockerforge_s3_entry-1.0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: dockerforge-s3-entry\nVersion: 1.0\n")
        lines = "".join(f"{name} = {value}\n" for name, value in declared.items())
        (dist / "entry_points.txt").write_text(f"[dockerforge.backup_storage]\n{lines}")
        monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(backup_storage, "_plugins_loaded", False)
    backup_storage.unregister("s3")
    yield declared
    backup_storage.unregister("s3")
    backup_storage._plugins_loaded = False


S3_KEY_ID = "AKIADOCKERFORGETEST"
S3_SECRET = "s3cr3t-ZmFrZS1zZWNyZXQta2V5LWZvci10ZXN0cw"


@pytest.fixture
def s3_target(moto_endpoint, s3_plugin, two_teams):
    """A StorageTarget of team A on a fresh bucket of the moto server."""
    import boto3

    from apps.backups.models import StorageTarget

    bucket = unique("dfbk").lower().replace("_", "-")[:63]
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", aws_access_key_id=S3_KEY_ID,
                 aws_secret_access_key=S3_SECRET).create_bucket(Bucket=bucket)
    return StorageTarget.objects.create(team=two_teams["a"]["team"], name=unique("s3"), kind="s3", endpoint_url=moto_endpoint,
                                        bucket=bucket, region="us-east-1", access_key_id=S3_KEY_ID, secret_key=S3_SECRET,
                                        prefix="dockerforge/backups")


@pytest.fixture
def team_b(two_teams):
    return two_teams["b"]
