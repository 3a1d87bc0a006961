"""Export/import on the real engine: an encrypted volume backup exported, the installation's
rows, files and key lost, imported with the exported key, verified, restored identical."""

import io
import shutil
import tarfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.activity.models import Operation
from apps.backups import keys, services
from apps.backups.models import Backup, BackupKey
from tests.conftest import api_client_for
from tests.helpers import unique

from .conftest import fingerprint, sh_in_volume

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def test_exported_backup_imports_verifies_and_restores(run, local_host, team_a, engine, make_volume, test_labels, backup_dir):
    source = make_volume(engine)
    sh_in_volume(engine, source, "echo secret > /v/s; mkdir /v/d; ln -s s /v/l; head -c 300000 /dev/urandom > /v/d/r", test_labels)
    before = fingerprint(engine, source, test_labels)
    op = run(services.request_backup, team_a["operator"], local_host, "volume", source, encrypt=True)
    assert op.status == Operation.Status.SUCCEEDED, op.error
    backup = Backup.objects.get(pk=op.result["backup"])
    admin = api_client_for(team_a["admin"])
    resp = admin.get(reverse("api:backup-export", args=[backup.pk]))
    assert resp.status_code == 200
    data = b"".join(resp.streaming_content)
    assert b"secret" not in data
    exported_key = keys.export(BackupKey.objects.get(key_id=backup.key_id))

    # lost: rows, files, key
    shutil.rmtree(backup_dir / backup.folder)
    Backup.objects.all().delete()
    BackupKey.objects.all().delete()

    # a tampered export is refused, and so is one without the key
    flipped = bytearray(data)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        flipped[tar.getmember("volume.tar.gz").offset_data + 500] ^= 0x20
    url = reverse("api:backup-import")
    bad = admin.post(url, {"file": SimpleUploadedFile("x.tar", bytes(flipped)), "key": exported_key}, format="multipart")
    assert bad.status_code == 400 and "volume.tar.gz" in str(bad.json()["error"]["details"]["file"])
    assert not BackupKey.objects.exists(), "a refused import keeps nothing, not even the key sent with it"
    nokey = admin.post(url, {"file": SimpleUploadedFile("x.tar", data)}, format="multipart")
    assert nokey.status_code == 400 and "key" in str(nokey.json())
    assert not Backup.objects.exists()

    ok = admin.post(url, {"file": SimpleUploadedFile("x.tar", data), "key": exported_key}, format="multipart")
    assert ok.status_code == 201, ok.content
    imported = Backup.objects.get(pk=ok.json()["id"])
    op = run(services.request_verify, team_a["operator"], imported)
    assert op.status == Operation.Status.SUCCEEDED, op.error
    target = unique("bkimported")
    op = run(services.request_restore, team_a["operator"], imported, local_host, target)
    try:
        assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
        assert fingerprint(engine, target, test_labels) == before
    finally:
        engine.volumes.get(target).remove(force=True)


def test_imported_backup_into_s3_drills_on_a_chosen_host(run, local_host, team_a, team_b, engine, make_volume, test_labels,
                                                          s3_target, django_capture_on_commit_callbacks):
    """An imported backup has no host: the drill names one of the team's hosts (API field);
    without one the drill says so; another team's host is not found."""
    from apps.hosts.models import DockerHost

    source = make_volume(engine)
    sh_in_volume(engine, source, "echo drill > /v/f; mkdir /v/d; ln -s f /v/l; head -c 100000 /dev/urandom > /v/d/r", test_labels)
    op = run(services.request_backup, team_a["operator"], local_host, "volume", source)
    assert op.status == Operation.Status.SUCCEEDED, op.error
    admin = api_client_for(team_a["admin"])
    data = b"".join(admin.get(reverse("api:backup-export", args=[op.result["backup"]])).streaming_content)

    resp = admin.post(reverse("api:backup-import"), {"file": SimpleUploadedFile("x.tar", data), "storage_target": s3_target.pk},
                      format="multipart")
    assert resp.status_code == 201, resp.content
    imported = Backup.objects.get(pk=resp.json()["id"])
    assert imported.host is None and imported.storage_target == s3_target and imported.storage == "s3"

    op = run(services.request_verify, team_a["operator"], imported, drill=True)
    assert op.status == Operation.Status.FAILED and "choose a host of the team for the drill" in op.error

    operator = api_client_for(team_a["operator"])
    url = reverse("api:backup-verify", args=[imported.pk])
    theirs = DockerHost.objects.create(team=team_b["team"], name=unique("theirs"), url="tcp://127.0.0.1:1")
    assert operator.post(url, {"drill": True, "host": theirs.pk}, format="json").status_code == 404
    bad = operator.post(url, {"drill": False, "host": local_host.pk}, format="json")
    assert bad.status_code == 400 and "host" in bad.json()["error"]["details"]

    with django_capture_on_commit_callbacks(execute=True):
        resp = operator.post(url, {"drill": True, "host": local_host.pk}, format="json")
    assert resp.status_code == 202, resp.content
    op = Operation.objects.get(pk=resp.json()["operation"])
    assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
    report = op.result["drill"]
    assert report["ok"] and report["cleaned"] and report["host"] == local_host.name
    assert report["checks"][0]["role"] == "volume" and report["checks"][0]["entries"] >= 5
    assert not [v for v in engine.volumes.list() if v.name in report["scratch"]]
    imported.refresh_from_db()
    assert imported.drill["ok"] and imported.host is None, "the drill's host is not the backup's"
