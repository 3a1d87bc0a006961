"""Portable export/import of one backup (no engine: a synthetic backup written with the real
artifact format into the real local storage) and the drill's pure tar comparison."""

import io
import json
import os
import tarfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.backups import artifact, drill, keys
from apps.backups.models import Backup, BackupKey
from apps.backups.services import MANIFEST_FORMAT
from apps.backups.storage import get_storage
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o640, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_backup(team, *, encrypt: bool = False, content: bytes | None = None) -> Backup:
    """A completed image backup whose artifact went through artifact.write into storage."""
    content = content or _tar({"layer.tar": os.urandom(3000), "manifest.json": b"[]"})
    backup = Backup.objects.create(team=team, kind="image", target_name="demo/app:1", status="completed", encrypted=encrypt)
    backup.folder = f"team-{team.pk}/{backup.uuid}"
    key = keys.active_key(team) if encrypt else None
    backup.key_id = key.key_id if key else ""
    storage = get_storage()
    with storage.writer(f"{backup.folder}/image.tar.gz") as sink:
        digest = artifact.write([content], sink, key=keys.raw(key) if key else None, key_id=backup.key_id)
    backup.manifest = {
        "format": MANIFEST_FORMAT, "backup": str(backup.uuid), "kind": "image", "team": {"id": team.pk},
        "source": {"host": {"id": None, "name": "h"}, "name": "demo/app:1"}, "compression": "gzip-6",
        "encryption": {"algorithm": "AES-256-GCM-chunked", "key_id": backup.key_id} if encrypt else None,
        "artifacts": [{"file": "image.tar.gz", "role": "image", "image": {"ref": "demo/app:1"}, **digest.as_dict()}],
    }
    storage.write_bytes(f"{backup.folder}/manifest.json", json.dumps(backup.manifest, indent=2).encode())
    backup.size, backup.content_size = digest.stored_size, digest.content_size
    backup.save()
    return backup


def _export(user, backup) -> bytes:
    resp = api_client_for(user).get(reverse("api:backup-export", args=[backup.pk]))
    assert resp.status_code == 200, resp.content
    assert resp["Content-Type"] == "application/x-tar" and "attachment" in resp["Content-Disposition"]
    return b"".join(resp.streaming_content)


def _import(user, data: bytes, **extra):
    upload = SimpleUploadedFile("export.tar", data, content_type="application/x-tar")
    return api_client_for(user).post(reverse("api:backup-import"), {"file": upload, **extra}, format="multipart")


def _offset(data: bytes, name: str) -> int:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getmember(name).offset_data


def _reason(resp) -> str:
    assert resp.status_code == 400, resp.content
    return " ".join(resp.json()["error"]["details"]["file"])


def test_export_import_round_trip_then_verify(two_teams, backup_dir, django_capture_on_commit_callbacks):
    a = two_teams["a"]
    backup = make_backup(a["team"])
    data = _export(a["admin"], backup)
    names = tarfile.open(fileobj=io.BytesIO(data)).getnames()
    assert names == ["dockerforge-export.json", "manifest.json", "image.tar.gz"]
    # the files and rows are gone (another installation): the export alone brings it back
    get_storage().delete_prefix(backup.folder)
    Backup.objects.all().delete()
    resp = _import(a["admin"], data)
    assert resp.status_code == 201, resp.content
    imported = Backup.objects.get(pk=resp.json()["id"])
    assert imported.team == a["team"] and imported.kind == "image" and imported.verify_ok is True
    assert imported.manifest["artifacts"][0]["stored_sha256"] == backup.manifest["artifacts"][0]["stored_sha256"]
    with django_capture_on_commit_callbacks(execute=True):
        op = api_client_for(a["operator"]).post(reverse("api:backup-verify", args=[imported.pk]), {}, format="json")
    assert op.status_code == 202
    from apps.activity.models import Operation
    assert Operation.objects.get(pk=op.json()["operation"]).status == "succeeded"


def test_export_and_import_are_admin_only_and_team_scoped(two_teams, backup_dir):
    a, b = two_teams["a"], two_teams["b"]
    backup = make_backup(a["team"])
    url = reverse("api:backup-export", args=[backup.pk])
    assert api_client_for(a["operator"]).get(url).status_code == 403
    assert api_client_for(b["admin"]).get(url).status_code == 404
    data = _export(a["admin"], backup)
    assert _import(a["operator"], data).status_code == 403
    assert _import(a["admin"], data, team=b["team"].pk).status_code == 404


def test_tampered_or_foreign_files_are_refused_with_a_reason(two_teams, backup_dir):
    a = two_teams["a"]
    backup = make_backup(a["team"])
    data = _export(a["admin"], backup)
    before = sorted(p.name for p in (backup_dir / f"team-{a['team'].pk}").iterdir())

    flipped = bytearray(data)
    flipped[_offset(data, "image.tar.gz") + 100] ^= 0x01
    assert "image.tar.gz" in _reason(_import(a["admin"], bytes(flipped)))

    manifest = json.loads(tarfile.open(fileobj=io.BytesIO(data)).extractfile("manifest.json").read())
    manifest["artifacts"][0]["content_sha256"] = "0" * 64
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    members["manifest.json"] = json.dumps(manifest).encode()
    assert "does not match its manifest" in _reason(_import(a["admin"], _tar(members)))

    assert "not a tar archive" in _reason(_import(a["admin"], b"hello, not a tar" * 100))
    assert _reason(_import(a["admin"], data[: _offset(data, "image.tar.gz") + 200]))  # cut short: a 400 with a reason
    assert "missing" in _reason(_import(a["admin"], _tar({"manifest.json": members["manifest.json"]})))
    assert "unexpected files" in _reason(_import(a["admin"], _tar({**members, "extra.sh": b"rm -rf /"})))
    assert "only plain files" in _reason(_import(a["admin"], _tar({**members, "../evil": b"x"})))
    bad_kind = json.dumps({**json.loads(members["manifest.json"]), "kind": "nope"}).encode()
    assert "unknown backup kind" in _reason(_import(a["admin"], _tar({**members, "manifest.json": bad_kind})))
    # nothing refused was kept
    assert sorted(p.name for p in (backup_dir / f"team-{a['team'].pk}").iterdir()) == before
    assert Backup.objects.count() == 1


def test_encrypted_export_needs_the_team_key(two_teams, backup_dir):
    a, b = two_teams["a"], two_teams["b"]
    backup = make_backup(a["team"], encrypt=True)
    data = _export(a["admin"], backup)
    assert b"DFBKENC1" in data and keys.raw(BackupKey.objects.get(team=a["team"])) not in data
    assert keys.export(BackupKey.objects.get(team=a["team"])).encode() not in data
    # team B (say, another installation) has no such key: refused until the key comes along
    assert "import the exported key first" in _reason(_import(b["admin"], data))
    assert "Not an exported DockerForge backup key" in str(_import(b["admin"], data, key="{}").content)
    exported = keys.export(BackupKey.objects.get(team=a["team"]))
    BackupKey.objects.filter(team=a["team"]).delete()
    resp = _import(a["admin"], data, key=exported)
    assert resp.status_code == 201, resp.content
    assert Backup.objects.get(pk=resp.json()["id"]).encrypted


def test_import_page_for_admins(two_teams, backup_dir, client):
    a = two_teams["a"]
    data = _export(a["admin"], make_backup(a["team"]))
    client.force_login(a["operator"])
    assert client.get(reverse("backups:import")).status_code == 403
    client.force_login(a["admin"])
    bad = client.post(reverse("backups:import"), {"file": SimpleUploadedFile("x.tar", b"junk" * 300)})
    assert bad.status_code == 400 and "not a tar archive" in bad.content.decode()
    ok = client.post(reverse("backups:import"), {"file": SimpleUploadedFile("x.tar", data)})
    assert ok.status_code == 302
    detail = client.get(ok["Location"]).content.decode()
    assert "Export as one file" in detail and "with restore drill" in detail


# --- the drill's tar comparison (pure) ----------------------------------------------------------------

def test_tar_index_finds_content_mode_and_missing_entries():
    files = {"./a": b"one", "./d/b": b"two"}
    base = drill.tar_index([_tar(files)])
    assert set(base) == {"a", "d/b"} and base["a"][7] == __import__("hashlib").sha256(b"one").hexdigest()
    assert drill.compare_index(base, drill.tar_index(iter([_tar(files)[:700], _tar(files)[700:]]))) == []
    assert drill.compare_index(base, drill.tar_index([_tar({**files, "./a": b"One"})])) == ["differs: a"]
    assert drill.compare_index(base, drill.tar_index([_tar({"./a": b"one"})])) == ["missing after restore: d/b"]
    assert drill.compare_file_hashes({"a": "0" * 64}, base) == ["content differs: a"]
    body = drill.scratch_body({"Image": "x", "Labels": {"com.docker.compose.project": "p"}, "HostConfig": {"PortBindings": {"80/tcp": [{}]}, "Binds": ["v:/d"]},
                               "NetworkingConfig": {"EndpointsConfig": {"n": {}}}})
    assert body["HostConfig"] == {"NetworkMode": "none", "PublishAllPorts": False} and "NetworkingConfig" not in body
    assert body["Labels"] == drill.DRILL_LABELS


def test_import_into_a_storage_target_on_s3(two_teams, backup_dir, s3_target, client):
    """API and page: the imported artifacts land in the team's bucket; another team's target is
    not found; a bucket that is gone is a clear storage_target error and nothing is kept."""
    import boto3

    from .conftest import S3_KEY_ID, S3_SECRET

    a, b = two_teams["a"], two_teams["b"]
    data = _export(a["admin"], make_backup(a["team"]))
    assert _import(b["admin"], data, storage_target=s3_target.pk, team=b["team"].pk).status_code == 404

    resp = _import(a["admin"], data, storage_target=s3_target.pk)
    assert resp.status_code == 201, resp.content
    backup = Backup.objects.get(pk=resp.json()["id"])
    assert resp.json()["storage_target"] == s3_target.pk and backup.storage == "s3" and backup.verify_ok
    s3 = boto3.client("s3", endpoint_url=s3_target.endpoint_url, region_name="us-east-1", aws_access_key_id=S3_KEY_ID,
                      aws_secret_access_key=S3_SECRET)
    keys_in_bucket = {o["Key"] for o in s3.list_objects_v2(Bucket=s3_target.bucket)["Contents"]}
    assert {f"dockerforge/backups/{backup.folder}/image.tar.gz", f"dockerforge/backups/{backup.folder}/manifest.json"} <= keys_in_bucket
    assert not (backup_dir / backup.folder).exists()

    # the page: the same, chosen from the form's select
    client.force_login(a["admin"])
    session = client.session
    session["current_team_id"] = a["team"].pk
    session.save()
    upload = SimpleUploadedFile("export.tar", data, content_type="application/x-tar")
    page = client.post(reverse("backups:import"), {"file": upload, "storage_target": s3_target.pk})
    assert page.status_code == 302
    assert Backup.objects.get(pk=int(page["Location"].strip("/").split("/")[-1])).storage_target == s3_target

    from apps.backups.models import StorageTarget

    StorageTarget.objects.filter(pk=s3_target.pk).update(bucket="df-gone-bucket")
    count = Backup.objects.count()
    gone = _import(a["admin"], data, storage_target=s3_target.pk)
    assert gone.status_code == 400, gone.content
    assert "df-gone-bucket" in " ".join(gone.json()["error"]["details"]["storage_target"])
    assert Backup.objects.count() == count
