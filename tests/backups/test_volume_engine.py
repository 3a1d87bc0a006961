"""Volume backups on the real engine: the acceptance data set, verify, tamper, restore,
encryption with an exported key on a "fresh installation", the second engine."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.activity.models import Operation
from apps.backups import keys, services
from apps.backups.models import Backup, BackupKey, Restore
from tests.helpers import unique

from .conftest import docker_client, fingerprint, sh_in_volume

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

# 10,000 entries: 100 directories of 97 files (mixed modes), empty directories, 100
# symlinks (relative, absolute, dangling), a 200 MB random file.
ACCEPTANCE_DATA = r"""set -e
cd /v
i=0
while [ $i -lt 100 ]; do
  mkdir -p d$i/empty
  cd d$i
  j=0
  while [ $j -lt 97 ]; do echo "file $i $j" > f$j; j=$((j+1)); done
  chmod 600 f1; chmod 755 f2; chmod 444 f3; chmod 4755 f4 2>/dev/null || true
  ln -s f0 link; cd ..
  i=$((i+1))
done
ln -s /etc/passwd abs-link; ln -s nowhere dangling
mkdir -p 'odd name' && echo x > 'odd name/with space'
head -c 209715200 /dev/urandom > big.bin
chown 1234:5678 d1/f5
find . | wc -l
"""


def _backup(run, user, host, kind, target, **opts) -> Backup:
    op = run(services.request_backup, user, host, kind, target, **opts)
    assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
    return Backup.objects.get(pk=op.result["backup"])


def _restore(run, user, backup, host, target, **opts) -> Operation:
    return run(services.request_restore, user, backup, host, target, **opts)


@pytest.mark.slow
def test_acceptance_volume_backup_verify_restore_identical(run, local_host, team_a, engine, make_volume, test_labels, backup_dir):
    source = make_volume(engine)
    count = int(sh_in_volume(engine, source, ACCEPTANCE_DATA, test_labels).split()[-1])
    assert count >= 10_000
    before = fingerprint(engine, source, test_labels)

    backup = _backup(run, team_a["operator"], local_host, "volume", source)
    assert backup.status == "completed" and backup.content_size > 200 * 1024 * 1024
    manifest = json.loads((backup_dir / backup.folder / "manifest.json").read_text())
    assert manifest == backup.manifest and manifest["kind"] == "volume" and manifest["source"]["name"] == source
    assert manifest["tool"]["name"] == "dockerforge" and manifest["compression"] == "gzip-6"
    assert {"content_sha256", "stored_sha256", "content_size", "stored_size"} <= set(manifest["artifacts"][0])

    op = run(services.request_verify, team_a["operator"], backup)
    assert op.status == Operation.Status.SUCCEEDED, op.error
    backup.refresh_from_db()
    assert backup.verify_ok is True

    target = unique("bkrestored")
    op = _restore(run, team_a["operator"], backup, local_host, target)
    try:
        assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
        assert fingerprint(engine, target, test_labels) == before
    finally:
        engine.volumes.get(target).remove(force=True)


def test_flipped_byte_fails_verify_and_restore_refuses(run, local_host, team_a, engine, make_volume, test_labels, backup_dir):
    source = make_volume(engine)
    sh_in_volume(engine, source, "head -c 300000 /dev/urandom > /v/data; echo hi > /v/small", test_labels)
    backup = _backup(run, team_a["operator"], local_host, "volume", source)
    path = backup_dir / backup.folder / backup.manifest["artifacts"][0]["file"]

    # a good backup that is damaged after a successful verify: the restore's own check refuses
    assert run(services.request_verify, team_a["operator"], backup).status == Operation.Status.SUCCEEDED
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    target = unique("bkrefused")
    op = _restore(run, team_a["operator"], backup, local_host, target)
    assert op.status == Operation.Status.FAILED and "failed verification" in op.error
    assert target not in [v.name for v in engine.volumes.list()], "nothing was restored"
    assert Restore.objects.get(backup=backup).status == "failed"

    op = run(services.request_verify, team_a["operator"], backup)
    backup.refresh_from_db()
    assert op.status == Operation.Status.FAILED and backup.verify_ok is False
    with pytest.raises(ValidationError, match="failed verification"):
        services.request_restore(team_a["operator"], backup, local_host, unique("bkrefused"))


def test_restore_into_existing_volume_needs_admin_and_overwrite(run, local_host, team_a, engine, make_volume, test_labels):
    source = make_volume(engine)
    sh_in_volume(engine, source, "echo original > /v/a; mkdir /v/dir", test_labels)
    backup = _backup(run, team_a["operator"], local_host, "volume", source)
    sh_in_volume(engine, source, "echo changed > /v/a; echo extra > /v/b", test_labels)

    op = _restore(run, team_a["operator"], backup, local_host, source)
    assert op.status == Operation.Status.FAILED and "overwrite" in op.error
    with pytest.raises(PermissionDenied):
        services.request_restore(team_a["operator"], backup, local_host, source, overwrite=True)
    with pytest.raises(PermissionDenied):
        services.request_restore(team_a["viewer"], backup, local_host, unique("x"))
    op = _restore(run, team_a["admin"], backup, local_host, source, overwrite=True)
    assert op.status == Operation.Status.SUCCEEDED, op.error
    assert sh_in_volume(engine, source, "cat /v/a; ls /v", test_labels).split() == ["original", "a", "dir"]


def test_encrypted_backup_restores_on_a_fresh_installation_with_the_exported_key(
        run, local_host, team_a, engine, make_volume, test_labels, make_team, backup_dir):
    source = make_volume(engine)
    sh_in_volume(engine, source, "echo secret > /v/s; head -c 100000 /dev/urandom > /v/r", test_labels)
    before = fingerprint(engine, source, test_labels)
    backup = _backup(run, team_a["operator"], local_host, "volume", source, encrypt=True)
    stored = (backup_dir / backup.folder / "volume.tar.gz").read_bytes()
    assert stored.startswith(b"DFBKENC1") and b"secret" not in stored
    assert backup.manifest["encryption"]["key_id"] == backup.key_id
    exported = keys.export(BackupKey.objects.get(key_id=backup.key_id))
    folder = backup.folder

    # the database is lost: only the files and the exported key remain
    Backup.objects.all().delete()
    BackupKey.objects.all().delete()
    fresh = make_team("fresh")
    from apps.accounts.models import Membership
    Membership.objects.create(user=team_a["admin"], team=fresh, role="admin")
    local_host.team = fresh
    local_host.save()
    with pytest.raises(ValidationError):
        keys.import_key(fresh, '{"format": "nope"}')
    imported = services.import_backup(team_a["admin"], fresh, folder)
    op = run(services.request_verify, team_a["admin"], imported)
    assert op.status == Operation.Status.FAILED and "import it first" in op.error
    keys.import_key(fresh, exported)
    target = unique("bkfresh")
    imported.verify_ok = None
    imported.save()
    op = _restore(run, team_a["admin"], imported, local_host, target)
    try:
        assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
        assert fingerprint(engine, target, test_labels) == before
    finally:
        engine.volumes.get(target).remove(force=True)


def test_volume_on_the_second_engine(run, second_host, team_a, tls_engine, test_labels):
    """The second engine starts with nothing: the helper image is provisioned there."""
    client = docker_client(f"unix://{tls_engine.socket_path}")
    source = unique("bk2")
    client.volumes.create(source, labels=test_labels)
    target = unique("bk2r")
    try:
        backup = _backup(run, team_a["operator"], second_host, "volume", source)  # provisions the helper
        from django.conf import settings
        image = settings.HELPER_IMAGE
        sh_in_volume(client, source, "echo remote > /v/f; mkdir -p /v/e; ln -s f /v/l", test_labels, image)
        before = fingerprint(client, source, test_labels, image)
        backup = _backup(run, team_a["operator"], second_host, "volume", source)
        op = _restore(run, team_a["operator"], backup, second_host, target)
        assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
        assert fingerprint(client, target, test_labels, image) == before
        assert "./f|regular file" in "\n".join(before)
    finally:
        for name in (source, target):
            try:
                client.volumes.get(name).remove(force=True)
            except Exception:  # noqa: BLE001
                pass
        client.close()
