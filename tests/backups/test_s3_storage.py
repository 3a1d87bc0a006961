"""S3-compatible storage (a plugin of the dockerforge.backup_storage group) against moto's
server mode: a real S3 HTTP endpoint on 127.0.0.1."""

import logging
import os

import boto3
import pytest
from django.db import connection

from apps.activity.models import Operation
from apps.backups import services
from apps.backups.models import Backup, StorageTarget
from apps.backups.s3 import PART_SIZE, S3Storage
from apps.backups.storage import StorageError, backup_storage, get_storage, storage_of
from tests.helpers import unique

from .conftest import S3_KEY_ID, S3_SECRET, fingerprint, sh_in_volume


def _s3(target: StorageTarget):
    return boto3.client("s3", endpoint_url=target.endpoint_url, region_name="us-east-1", aws_access_key_id=S3_KEY_ID,
                        aws_secret_access_key=S3_SECRET)


@pytest.mark.django_db
def test_s3_resolves_through_the_entry_point_group(s3_plugin):
    assert s3_plugin == {"s3": "apps.backups.s3:S3Storage"}, "pyproject.toml declares the plugin"
    assert backup_storage.get("s3") is S3Storage and backup_storage.get("local").name == "local"
    with pytest.raises(StorageError, match="Unknown storage kind"):
        get_storage("ftp")


@pytest.mark.django_db
def test_streamed_multipart_write_read_exists_delete(s3_target):
    store = storage_of(Backup(storage="s3", storage_target=s3_target))
    assert isinstance(store, S3Storage) and S3_SECRET not in repr(store)
    data = os.urandom(PART_SIZE * 2 + 12345)  # three parts
    with store.writer("team-1/b/volume.tar.gz") as sink:
        for i in range(0, len(data), 1_000_000):
            sink(data[i: i + 1_000_000])
    store.write_bytes("team-1/b/manifest.json", b"{}")
    assert store.read_bytes("team-1/b/volume.tar.gz") == data and store.exists("team-1/b/manifest.json")
    assert store.locate("team-1/b/x") == f"s3://{s3_target.bucket}/dockerforge/backups/team-1/b/x"
    head = _s3(s3_target).head_object(Bucket=s3_target.bucket, Key="dockerforge/backups/team-1/b/volume.tar.gz")
    assert head["ContentLength"] == len(data)

    # a write that fails half-way leaves no object (the multipart upload is aborted)
    with pytest.raises(RuntimeError), store.writer("team-1/b/broken") as sink:
        sink(os.urandom(PART_SIZE + 1))
        raise RuntimeError("archive failed")
    assert not store.exists("team-1/b/broken")
    assert not _s3(s3_target).list_multipart_uploads(Bucket=s3_target.bucket).get("Uploads")

    store.delete_prefix("team-1/b")
    assert not store.exists("team-1/b/volume.tar.gz") and not store.exists("team-1/b/manifest.json")
    with pytest.raises(StorageError, match="NoSuchKey") as exc:
        store.read_bytes("team-1/b/volume.tar.gz")
    assert S3_SECRET not in str(exc.value) and S3_KEY_ID not in str(exc.value)


@pytest.mark.django_db
def test_denied_endpoint_is_a_clear_error(s3_target, settings):
    settings.OUTBOUND_ALLOW = []  # the default policy: loopback is denied to teams
    with pytest.raises(StorageError, match="loopback"):
        storage_of(Backup(storage="s3", storage_target=s3_target))


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_volume_backup_to_s3_verify_tamper_restore(run, local_host, team_a, engine, make_volume, test_labels, s3_target,
                                                   backup_dir, caplog):
    caplog.set_level(logging.DEBUG)
    user = team_a["operator"]
    source = make_volume(engine)
    sh_in_volume(engine, source, "head -c 300000 /dev/urandom > /v/data; echo hi > /v/small; ln -s small /v/l", test_labels)
    before = fingerprint(engine, source, test_labels)
    op = run(services.request_backup, user, local_host, "volume", source, storage_target=s3_target, encrypt=True)
    assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
    backup = Backup.objects.get(pk=op.result["backup"])
    assert backup.storage == "s3" and backup.storage_target == s3_target
    assert not (backup_dir / backup.folder).exists(), "nothing was written locally"
    key = f"dockerforge/backups/{backup.folder}/volume.tar.gz"
    stored = _s3(s3_target).get_object(Bucket=s3_target.bucket, Key=key)["Body"].read()
    assert stored.startswith(b"DFBKENC1") and len(stored) == backup.manifest["artifacts"][0]["stored_size"]

    assert run(services.request_verify, user, backup).status == Operation.Status.SUCCEEDED
    target = unique("bks3")
    op = run(services.request_restore, user, backup, local_host, target)
    try:
        assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
        assert fingerprint(engine, target, test_labels) == before
    finally:
        engine.volumes.get(target).remove(force=True)

    # one flipped byte in the S3 object: verify fails, restore refuses
    damaged = bytearray(stored)
    damaged[len(damaged) // 2] ^= 0x01
    _s3(s3_target).put_object(Bucket=s3_target.bucket, Key=key, Body=bytes(damaged))
    op = run(services.request_verify, user, backup)
    backup.refresh_from_db()
    assert op.status == Operation.Status.FAILED and backup.verify_ok is False
    assert "volume.tar.gz" in op.error
    refused = unique("bks3x")
    backup.verify_ok = None  # as if the damage happened after the last verify: the restore's own check refuses
    backup.save()
    op = run(services.request_restore, user, backup, local_host, refused)
    assert op.status == Operation.Status.FAILED and "failed verification" in op.error
    assert refused not in [v.name for v in engine.volumes.list()]

    # the secret key: not in any log line, operation or manifest; only ciphertext in the database
    assert S3_SECRET not in caplog.text
    for row in Operation.objects.all():
        assert S3_SECRET not in f"{row.params} {row.result} {row.log} {row.error}"
    assert S3_SECRET not in str(backup.manifest)
    _assert_not_in_database(S3_SECRET)


def _assert_not_in_database(secret: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret_key FROM {StorageTarget._meta.db_table}")
        values = [r[0] for r in cursor.fetchall()]
        assert values and all(v and secret not in v for v in values)
        from apps.activity.models import AuditEvent

        cursor.execute(f"SELECT * FROM {AuditEvent._meta.db_table}")
        assert secret not in repr(cursor.fetchall())


@pytest.mark.django_db
def test_storage_target_api_secret_is_write_only_and_encrypted(s3_plugin, moto_endpoint, team_a, team_b, api_client):
    body = {"name": "offsite", "kind": "s3", "endpoint_url": moto_endpoint, "bucket": "df-offsite", "region": "us-east-1",
            "access_key_id": S3_KEY_ID, "secret_key": S3_SECRET, "prefix": "x"}
    assert api_client(team_a["operator"]).post("/api/v1/backup-storage-targets/", body, format="json").status_code == 403
    admin = api_client(team_a["admin"])
    resp = admin.post("/api/v1/backup-storage-targets/", body, format="json")
    assert resp.status_code == 201, resp.content
    assert "secret_key" not in resp.json() and resp.json()["has_secret_key"] is True and S3_SECRET not in resp.content.decode()
    target = StorageTarget.objects.get(pk=resp.json()["id"])
    assert target.secret_key == S3_SECRET
    # an update without the secret keeps it
    assert admin.patch(f"/api/v1/backup-storage-targets/{target.pk}/", {"prefix": "y"}, format="json").status_code == 200
    target.refresh_from_db()
    assert target.secret_key == S3_SECRET and target.prefix == "y"
    _assert_not_in_database(S3_SECRET)

    for change, field in (({"endpoint_url": "ftp://x"}, "endpoint_url"), ({"bucket": "A"}, "bucket"),
                          ({"secret_key": ""}, "secret_key"), ({"kind": "nope"}, "kind")):
        bad = admin.post("/api/v1/backup-storage-targets/", {**body, "name": "bad", **change}, format="json")
        assert bad.status_code == 400 and field in bad.json()["error"]["details"], (change, bad.content)
    # another team's target: not visible, not usable
    assert api_client(team_b["admin"]).get(f"/api/v1/backup-storage-targets/{target.pk}/").status_code == 404
    assert api_client(team_a["viewer"]).get("/api/v1/backup-storage-targets/").json()["count"] == 1


@pytest.mark.django_db
def test_storage_target_denied_by_default_policy(s3_plugin, team_a, api_client, settings):
    settings.OUTBOUND_ALLOW = []
    resp = api_client(team_a["admin"]).post("/api/v1/backup-storage-targets/", {
        "name": "meta", "kind": "s3", "endpoint_url": "http://169.254.169.254/", "bucket": "df-bucket",
        "access_key_id": "a", "secret_key": "b"}, format="json")
    assert resp.status_code == 400 and "endpoint_url" in resp.json()["error"]["details"]


@pytest.mark.django_db
def test_check_action_reaches_the_bucket(s3_target, team_a, api_client):
    url = f"/api/v1/backup-storage-targets/{s3_target.pk}/check/"
    assert api_client(team_a["operator"]).post(url).status_code == 403
    admin = api_client(team_a["admin"])
    assert admin.post(url).json() == {"ok": True}
    StorageTarget.objects.filter(pk=s3_target.pk).update(bucket="df-no-such-bucket")
    answer = admin.post(url).json()
    assert answer["ok"] is False and "df-no-such-bucket" in answer["error"] and S3_SECRET not in answer["error"]
