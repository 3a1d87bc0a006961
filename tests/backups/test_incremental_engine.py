"""Incremental volume backups on the real engine: a full, changes (modified, new, deleted
files, a re-pointed symlink, a mode change, a same-size rewrite within the second, a name
with a newline), increments that hold only the changes, and restores that replay the chain
into new volumes identical to the source at each increment's time."""

import json

import pytest
from django.core.exceptions import ValidationError

from apps.activity.models import Operation
from apps.backups import services
from apps.backups.incremental import index_entry, read_json_artifact
from apps.backups.models import Backup
from tests.helpers import unique

from .conftest import fingerprint, sh_in_volume

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

INITIAL = r"""set -e
cd /v
mkdir -p keep/deep gone empty
head -c 3000000 /dev/urandom > big
for i in 1 2 3 4 5; do echo "file $i" > keep/f$i; done
echo bye > gone/x
ln -s keep/f1 link
echo mode > modme && chmod 640 modme
printf aaaa > same
chown 1234:5678 keep/f4
"""
CHANGES = r"""set -e
cd /v
printf bbbb > same
echo more >> keep/f2
echo new > keep/deep/new
rm -rf gone keep/f5
ln -sfn keep/f3 link
chmod 600 modme
mkdir -p newdir/sub && echo n > newdir/sub/n
printf x > "$(printf 'line\nbreak')"
ln keep/f3 hardlink
"""
MORE_CHANGES = r"""set -e
cd /v
rm -rf newdir keep/deep/new
echo again > keep/f1
mkdir gone && echo back > gone/y
"""


def _backup(run, user, host, volume, **opts) -> Backup:
    op = run(services.request_backup, user, host, "volume", volume, **opts)
    assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
    return Backup.objects.get(pk=op.result["backup"])


def _restore_fingerprint(run, user, backup, host, engine, labels) -> list[str]:
    target = unique("bkincr-r")
    op = run(services.request_restore, user, backup, host, target)
    try:
        assert op.status == Operation.Status.SUCCEEDED, op.error + op.log
        inodes = sh_in_volume(engine, target, "cd /v; stat -c %i hardlink keep/f3 2>/dev/null || true", labels).split()
        assert len(inodes) in (0, 2) and len(set(inodes)) <= 1, "hard links stay hard links"
        return fingerprint(engine, target, labels)
    finally:
        engine.volumes.get(target).remove(force=True)


def test_incremental_holds_only_the_changes_and_restore_replays_the_chain(
        run, local_host, team_a, engine, make_volume, test_labels, backup_dir):
    user = team_a["operator"]
    source = make_volume(engine)
    sh_in_volume(engine, source, INITIAL, test_labels)
    full = _backup(run, user, local_host, source, incremental=True)  # nothing to build on yet: a full one
    assert full.mode == "full" and full.parent is None and full.manifest["mode"] == "full"
    assert {a["role"] for a in full.manifest["artifacts"]} == {"volume", "index"}

    sh_in_volume(engine, source, CHANGES, test_labels)
    after_changes = fingerprint(engine, source, test_labels)
    inc = _backup(run, user, local_host, source, incremental=True)
    assert inc.mode == "incremental" and inc.parent_id == full.pk and inc.base_id == full.pk
    assert inc.manifest["parent"] == str(full.uuid) and inc.manifest["base"] == str(full.uuid)
    assert inc.size * 20 < full.size, (inc.size, full.size)

    record = read_json_artifact(inc, index_entry(inc))
    files = {p for p in record["changed"] if record["entries"][p][0] & 0o170000 != 0o040000}
    # (keep/f3 gained a hard link: its ctime changed, so it goes along with it)
    assert files == {"./same", "./keep/f2", "./keep/deep/new", "./link", "./modme", "./newdir/sub/n", "./line\nbreak",
                     "./hardlink", "./keep/f3"}
    assert record["deleted"] == ["./gone", "./gone/x", "./keep/f5"]
    assert inc.manifest["changes"]["changed"] == len(record["changed"])
    # the increment's tar holds the changes and their directories, never the unchanged big file
    names = _tar_names(inc)
    assert "./big" not in names and "./keep/f1" not in names and "./keep/f2" in names and "./line\nbreak" in names

    assert _restore_fingerprint(run, user, inc, local_host, engine, test_labels) == after_changes

    sh_in_volume(engine, source, MORE_CHANGES, test_labels)
    after_more = fingerprint(engine, source, test_labels)
    inc2 = _backup(run, user, local_host, source, incremental=True)
    assert inc2.parent_id == inc.pk and inc2.base_id == full.pk
    assert _restore_fingerprint(run, user, inc2, local_host, engine, test_labels) == after_more

    # a broken link in the chain: the later increment refuses to restore
    Backup.objects.filter(pk=inc.pk).update(verify_ok=False)
    with pytest.raises(ValidationError, match="builds on"):
        services.request_restore(user, Backup.objects.get(pk=inc2.pk), local_host, unique("bkincr-x"))
    # and a new increment builds on the last good member (the full)
    inc3 = _backup(run, user, local_host, source, incremental=True)
    assert inc3.parent_id == full.pk


def _tar_names(backup: Backup) -> set[str]:
    import io
    import tarfile

    entry = next(a for a in backup.manifest["artifacts"] if a["role"] == "increment")
    data = b"".join(services._checked_stream(backup, entry))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {"./" + m.name.removeprefix("./").rstrip("/") for m in tar.getmembers()}


def test_manifest_and_api_label_the_mode(run, local_host, team_a, engine, make_volume, test_labels, api_client, client):
    source = make_volume(engine)
    sh_in_volume(engine, source, "echo a > /v/a", test_labels)
    full = _backup(run, team_a["operator"], local_host, source)
    sh_in_volume(engine, source, "echo b > /v/b", test_labels)
    inc = _backup(run, team_a["operator"], local_host, source, incremental=True)
    stored = json.loads(services.storage_of(inc).read_bytes(f"{inc.folder}/manifest.json"))
    assert stored["mode"] == "incremental" and stored["parent"] == str(full.uuid)
    client = api_client(team_a["viewer"])
    data = client.get(f"/api/v1/backups/{inc.pk}/").json()
    assert data["mode"] == "incremental" and data["parent"] == full.pk and data["base"] == full.pk
    # nothing changed: an empty increment, and its restore still gives the same volume
    before = fingerprint(engine, source, test_labels)
    empty = _backup(run, team_a["operator"], local_host, source, incremental=True)
    assert empty.parent_id == inc.pk and empty.manifest["changes"] == {"changed": 0, "deleted": 0, "archived": 0}
    assert _restore_fingerprint(run, team_a["operator"], empty, local_host, engine, test_labels) == before
    client.force_login(team_a["viewer"])
    page = client.get(f"/backups/{inc.pk}/")
    assert page.status_code == 200 and b"Incremental" in page.content


def test_an_unreadable_parent_index_makes_a_full_backup(run, local_host, team_a, engine, make_volume, test_labels, backup_dir):
    source = make_volume(engine)
    sh_in_volume(engine, source, "echo a > /v/a", test_labels)
    full = _backup(run, team_a["operator"], local_host, source)
    index = backup_dir / full.folder / "index.json.gz"
    data = bytearray(index.read_bytes())
    data[-12] ^= 0xFF  # inside the gzip trailer's CRC: the read fails
    index.write_bytes(bytes(data))
    op = run(services.request_backup, team_a["operator"], local_host, "volume", source, incremental=True)
    assert op.status == Operation.Status.SUCCEEDED, op.error
    again = Backup.objects.get(pk=op.result["backup"])
    assert again.mode == "full" and again.parent is None and "making a full backup instead" in op.log
    assert {a["role"] for a in again.manifest["artifacts"]} == {"volume", "index"}
