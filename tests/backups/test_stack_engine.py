"""Stack backups on the real engine: a 2-service Compose stack with a named volume is backed
up, taken down with its volumes, restored (same name, then a new project name) and comes back
with the same config and identical data."""

import gzip
import subprocess
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.activity.models import Operation
from apps.backups import services
from apps.backups.models import Backup
from apps.compose import services as compose_services
from tests.compose.conftest import busybox_stack
from tests.helpers import RUN_ID

from .conftest import fingerprint, sh_in_volume
from .test_container_engine import _config

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def _name() -> str:
    return f"df{RUN_ID}{uuid.uuid4().hex[:6]}".lower().replace("_", "").replace("-", "")


@pytest.fixture
def stacks(settings, tmp_path):
    """Compose settings for tests, and `docker-compose down -v` of every stack made (always)."""
    settings.COMPOSE_STACKS_DIR = tmp_path / "stacks"
    settings.COMPOSE_REGISTRY_CHECK = False
    made: list[str] = []
    yield made
    for name in made:
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={name}"],
                             capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, timeout=60)
        vols = subprocess.run(["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={name}"],
                              capture_output=True, text=True).stdout.split()
        if vols:
            subprocess.run(["docker", "volume", "rm", "-f", *vols], capture_output=True, timeout=60)
        subprocess.run(["docker", "network", "rm", f"{name}_back"], capture_output=True, timeout=60)


def _ok(op: Operation) -> Operation:
    assert op.status == Operation.Status.SUCCEEDED, op.error + "\n" + op.log
    return op


def _stack_configs(engine, name: str) -> dict[str, dict]:
    containers = engine.containers.list(all=True, filters={"label": f"com.docker.compose.project={name}"})
    return {c.labels["com.docker.compose.service"]: _config(engine.api.inspect_container(c.id)) for c in containers}


def test_stack_backed_up_taken_down_and_restored(run, local_host, team_a, engine, test_labels, stacks):
    name = _name()
    stacks.append(name)
    admin, operator = team_a["admin"], team_a["operator"]
    project = compose_services.create_project(admin, local_host, name, busybox_stack(), "SECRET_TOKEN=t0k3n\n")
    _ok(run(compose_services.request_operation, operator, project, "up"))
    volume = f"{name}_data"
    sh_in_volume(engine, volume, "echo hello > /v/a; mkdir -p /v/d/e; ln -s a /v/l; head -c 50000 /dev/urandom > /v/d/r", test_labels)
    data_before = fingerprint(engine, volume, test_labels)
    before = _stack_configs(engine, name)
    assert set(before) == {"db", "web"} and all(c["Running"] for c in before.values())

    with pytest.raises(ValidationError, match="No Compose stack"):
        services.request_backup(operator, local_host, "stack", "nosuchstack")
    op = _ok(run(services.request_backup, operator, local_host, "stack", name))
    backup = Backup.objects.get(pk=op.result["backup"])
    roles = sorted(a["role"] for a in backup.manifest["artifacts"])
    assert roles == ["container", "container", "stack", "volume"]
    assert backup.manifest["stack"]["project"] == name and backup.manifest["stack"]["volumes"] == [volume]
    assert sorted(backup.manifest["stack"]["services"]) == ["db", "web"]
    assert "t0k3n" not in str(backup.manifest), "the .env lives in the artifact only"
    assert backup.encrypted and backup.key_id, "a stack with a .env is always encrypted"
    stored = b"".join(services.storage_of(backup).read(f"{backup.folder}/stack.json.gz"))
    with pytest.raises(OSError):  # ciphertext: a plain gzip of the .env would open here
        gzip.decompress(stored)

    # gone: containers and volumes
    _ok(run(compose_services.request_operation, operator, project, "down", volumes=True))
    assert not engine.containers.list(all=True, filters={"label": f"com.docker.compose.project={name}"})
    assert volume not in [v.name for v in engine.volumes.list()]

    with pytest.raises(PermissionDenied):  # a stack restore writes the stack's files: admins
        services.request_restore(operator, backup, local_host, "")
    with pytest.raises(ValidationError):
        services.request_restore(admin, backup, local_host, "Bad Name!")
    _ok(run(services.request_restore, admin, backup, local_host, ""))
    after = _stack_configs(engine, name)
    assert after == before
    assert fingerprint(engine, volume, test_labels) == data_before
    web = engine.containers.list(filters={"label": [f"com.docker.compose.project={name}", "com.docker.compose.service=web"]})[0]
    assert "TOKEN=t0k3n" in web.attrs["Config"]["Env"]
    assert project.versions.count() == 2 and project.versions.first().comment.startswith("Restored from backup")

    # a restore drill of the stack backup: every volume and container into scratch objects
    report = _ok(run(services.request_verify, operator, backup, drill=True)).result["drill"]
    assert report["ok"] and report["cleaned"]
    assert sorted(c["role"] for c in report["checks"]) == ["container", "container", "stack", "volume"]
    assert all(c["ok"] for c in report["checks"]) and next(c for c in report["checks"] if c["role"] == "stack")["skipped"]
    left = {c.name for c in engine.containers.list(all=True)} | {v.name for v in engine.volumes.list()}
    assert not left & set(report["scratch"]) and len(report["scratch"]) == 3
    assert _stack_configs(engine, name) == before, "the drill left the stack alone"

    # again, under a new project name: the project-named volume follows the new name
    new = _name()
    stacks.append(new)
    op = _ok(run(services.request_restore, admin, backup, local_host, new))
    assert op.result["volumes"] == [f"{new}_data"]
    moved = _stack_configs(engine, new)
    assert set(moved) == {"db", "web"} and all(c["Running"] for c in moved.values())
    assert moved["db"]["Cmd"] == before["db"]["Cmd"] and moved["web"]["Env"] == before["web"]["Env"]
    assert fingerprint(engine, f"{new}_data", test_labels) == data_before
    assert engine.volumes.get(f"{new}_data").attrs["Labels"]["com.docker.compose.project"] == new

    # the original still runs; restoring over its existing volume needs overwrite
    op = run(services.request_restore, admin, backup, local_host, name)
    assert op.status == Operation.Status.FAILED and "overwrite" in op.error
