"""Container and image backups on the real engine; quiesce with a forced archive failure."""

import pytest

from apps.activity.models import Operation
from apps.backups import services
from apps.backups.models import Backup
from tests.fixtures.engines import free_port
from tests.helpers import unique

from .conftest import BASE_IMAGE, sh_in_volume

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def _backup(run, user, host, kind, target, **opts) -> Backup:
    op = run(services.request_backup, user, host, kind, target, **opts)
    assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
    return Backup.objects.get(pk=op.result["backup"])


def _config(inspect: dict) -> dict:
    """The fields a restore must bring back, side by side."""
    c, h = inspect["Config"], inspect["HostConfig"]
    return {
        "Name": inspect["Name"], "Image": c["Image"], "Cmd": c["Cmd"], "Entrypoint": c["Entrypoint"], "Env": c["Env"],
        "Labels": c["Labels"], "Healthcheck": c.get("Healthcheck"), "ExposedPorts": c.get("ExposedPorts"),
        "WorkingDir": c["WorkingDir"], "User": c["User"], "StopSignal": c.get("StopSignal"),
        "Binds": h["Binds"], "PortBindings": h["PortBindings"], "RestartPolicy": h["RestartPolicy"], "Memory": h["Memory"],
        "NanoCpus": h["NanoCpus"], "NetworkMode": h["NetworkMode"], "CapAdd": h["CapAdd"],
        "Networks": sorted(inspect["NetworkSettings"]["Networks"]), "Running": inspect["State"]["Running"],
        "Mounts": sorted((m["Type"], m.get("Name"), m["Destination"], m["RW"]) for m in inspect["Mounts"]),
    }


def test_container_backed_up_removed_and_restored_with_config_and_data(run, local_host, team_a, engine, make_volume, test_labels):
    volume = make_volume(engine)
    network = engine.networks.create(unique("bknet"), labels=test_labels)
    name = unique("bkctr")
    port = free_port()
    container = engine.containers.run(
        BASE_IMAGE, ["sh", "-c", "[ -f /data/file ] || echo data-$HOSTNAME > /data/file; sleep 3600"], name=name, detach=True,
        environment={"APP_MODE": "prod", "EMPTY": ""}, labels={**test_labels, "app": "demo"},
        volumes={volume: {"bind": "/data", "mode": "rw"}}, ports={"8080/tcp": ("127.0.0.1", port)},
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 3}, mem_limit="64m", nano_cpus=500_000_000,
        healthcheck={"test": ["CMD-SHELL", "test -f /data/file"], "interval": 2_000_000_000}, working_dir="/tmp",
        stop_signal="SIGINT", cap_add=["NET_ADMIN"], network=network.name,
    )
    try:
        import time
        time.sleep(0.5)
        before = _config(engine.api.inspect_container(container.id))
        data_before = sh_in_volume(engine, volume, "cat /v/file", test_labels)
        backup = _backup(run, team_a["operator"], local_host, "container", name, include_volumes=True)
        assert [a["role"] for a in backup.manifest["artifacts"]] == ["container", "volume"]
        assert backup.manifest["container"]["volumes"] == [volume]

        container.remove(force=True)
        engine.volumes.get(volume).remove(force=True)
        op = run(services.request_restore, team_a["operator"], backup, local_host, "")
        assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
        after = _config(engine.api.inspect_container(name))
        assert after == before
        assert sh_in_volume(engine, volume, "cat /v/file", test_labels) == data_before
        assert engine.volumes.get(volume).attrs["Labels"] == test_labels

        # the same name exists now: refused without overwrite; a new name works (same host)
        op = run(services.request_restore, team_a["operator"], backup, local_host, "")
        assert op.status == Operation.Status.FAILED and "exists" in op.error
    finally:
        for c in engine.containers.list(all=True, filters={"name": name}):
            c.remove(force=True)
        network.remove()


def test_container_with_commit_restores_under_a_new_name(run, local_host, team_a, engine, test_labels):
    name, new_name = unique("bkcommit"), unique("bkcommit-new")
    engine.containers.run(BASE_IMAGE, ["sh", "-c", "echo inside > /marker; sleep 3600"], name=name, detach=True, labels=test_labels)
    try:
        import time
        time.sleep(0.5)
        backup = _backup(run, team_a["operator"], local_host, "container", name, commit=True)
        ref = next(a for a in backup.manifest["artifacts"] if a["role"] == "commit")["image"]["ref"]
        assert not engine.images.list(name=ref), "the temporary commit image is removed after saving"
        op = run(services.request_restore, team_a["operator"], backup, local_host, new_name)
        assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
        restored = engine.containers.get(new_name)
        assert restored.status == "running"
        assert engine.api.exec_start(engine.api.exec_create(restored.id, ["cat", "/marker"])["Id"]).strip() == b"inside"
    finally:
        for n in (name, new_name):
            for c in engine.containers.list(all=True, filters={"name": n}):
                c.remove(force=True)
        for img in engine.images.list(name="dockerforge-backup/*"):
            engine.images.remove(img.id, force=True)


def test_image_backup_and_load(run, local_host, team_a, engine):
    import io

    ref = f"dockerforge-test/bkimg:{unique('t').lower()}"
    engine.images.build(fileobj=io.BytesIO(f"FROM {BASE_IMAGE}\nRUN echo x > /x\n".encode()), tag=ref, rm=True)
    try:
        backup = _backup(run, team_a["operator"], local_host, "image", ref)
        image_id = engine.images.get(ref).id
        engine.images.remove(ref, force=True)
        op = run(services.request_restore, team_a["operator"], backup, local_host, "")
        assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
        assert engine.images.get(ref).id == image_id
    finally:
        try:
            engine.images.remove(ref, force=True)
        except Exception:  # noqa: BLE001
            pass


def test_quiesced_container_runs_again_after_a_forced_archive_failure(run, local_host, team_a, engine, make_volume, test_labels,
                                                                     settings, tmp_path):
    volume = make_volume(engine)
    name = unique("bkquiet")
    container = engine.containers.run(
        BASE_IMAGE, ["sleep", "3600"], name=name, detach=True, volumes={volume: {"bind": "/data"}},
        labels={**test_labels, "dockerforge.backup.stop": "true",
                "dockerforge.backup.pre": "echo pre >> /data/hooks", "dockerforge.backup.post": "echo post >> /data/hooks"},
    )
    try:
        started = engine.api.inspect_container(container.id)["State"]["StartedAt"]
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("a file where the backup folder should be")
        settings.BACKUP_DIR = str(blocker / "backups")  # storage cannot be written: the archive step fails
        op = run(services.request_backup, team_a["operator"], local_host, "volume", volume)
        assert op.status == Operation.Status.FAILED
        assert f"Stopped {name}" in op.log and f"Started {name} again" in op.log
        state = engine.api.inspect_container(container.id)["State"]
        assert state["Running"] and state["StartedAt"] != started, "stopped for the archive, started again"
        assert sh_in_volume(engine, volume, "cat /v/hooks", test_labels).split() == ["pre", "post"]
        backup = Backup.objects.get(target_name=volume)
        assert backup.status == "failed" and backup.error
        from apps.activity.models import Event
        assert Event.objects.filter(kind="backup.failed", team=team_a["team"]).exists()
    finally:
        container.remove(force=True)
