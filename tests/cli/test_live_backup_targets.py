"""The console script's `backup create --incremental --storage-target`, `backup ls` (mode and
storage), `backup import --storage-target` and `backup verify --drill --host` against the live
daphne server and the real engine."""

from __future__ import annotations

import tarfile

import pytest

from apps.backups.models import Backup, StorageTarget
from tests.helpers import RUN_ID, TEST_LABEL, unique

from .test_live_features import engine, run_once  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def test_incremental_to_a_target_import_there_and_drill_on_a_host(logged_in, local_host, engine, tmp_path):  # noqa: F811
    cli = logged_in
    target = StorageTarget.objects.create(team=cli.team, name="cli-offsite", kind="local", prefix="cli-offsite")
    volume = unique("cli-bkt")
    engine.volumes.create(volume, labels={TEST_LABEL: RUN_ID})
    run_once(engine, "echo one > /data/a", volume)

    full = cli("backup", "create", "--volume", volume, "--host", "local", "--storage-target", "cli-offsite", "--json")
    assert full.code == 0, full.err
    full = full.json()["backup"]
    assert full["storage_target"] == target.pk and full["mode"] == "full"
    run_once(engine, "echo two > /data/b", volume)
    inc = cli("backup", "create", "--volume", volume, "--host", "local", "--incremental", "--storage-target", str(target.pk))
    assert inc.code == 0, inc.err
    assert "(incremental)" in inc.out and "in storage target" in inc.out
    row = Backup.objects.filter(target_name=volume, mode="incremental").get()
    assert row.storage_target_id == target.pk and row.parent_id == full["id"]

    table = cli("backup", "ls", "--name", volume)
    assert table.code == 0, table.err
    lines = [line for line in table.out.splitlines() if volume in line]
    assert len(lines) == 2 and "incremental" in lines[0] and "full" in lines[1]
    assert all("cli-offsite" in line for line in lines)
    assert "MODE" in table.out and "STORAGE" in table.out

    missing = cli("backup", "create", "--volume", volume, "--host", "local", "--storage-target", "no-such-target")
    assert missing.code == 3 and "No such storage target: no-such-target" in missing.err

    out = tmp_path / "full.tar"
    assert cli("backup", "export", str(full["id"]), "-o", str(out)).code == 0
    assert "volume.tar.gz" in tarfile.open(out).getnames()
    imported = cli("backup", "import", str(out), "--storage-target", "cli-offsite", "--json")
    assert imported.code == 0, imported.err
    imported = imported.json()
    assert imported["storage_target"] == target.pk and imported["host"] is None

    usage = cli("backup", "verify", str(imported["id"]), "--host", "local")
    assert usage.code == 2 and "--drill" in usage.err
    no_host = cli("backup", "verify", str(imported["id"]), "--drill")
    assert no_host.code == 1 and "choose a host" in no_host.err
    drilled = cli("backup", "verify", str(imported["id"]), "--drill", "--host", "local")
    assert drilled.code == 0, drilled.err
    assert "restore drill passed" in drilled.out
    report = Backup.objects.get(pk=imported["id"]).drill
    assert report["ok"] and report["host"] == "local" and report["cleaned"]
