"""The console script's `backup verify --drill`, `backup export` and `backup import` against the
live daphne server and the real engine."""

from __future__ import annotations

import tarfile

import pytest

from tests.helpers import RUN_ID, TEST_LABEL, unique

from .test_live_features import engine, run_once  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def test_backup_drill_export_and_import(logged_in, local_host, engine, tmp_path):  # noqa: F811
    cli = logged_in
    volume = unique("cli-bkp")
    engine.volumes.create(volume, labels={TEST_LABEL: RUN_ID})
    run_once(engine, "echo portable > /data/f", volume)
    backup = cli("backup", "create", "--volume", volume, "--host", "local", "--json").json()["backup"]

    drilled = cli("backup", "verify", str(backup["id"]), "--drill")
    assert drilled.code == 0, drilled.err
    assert "restore drill passed" in drilled.out

    out = tmp_path / "one.tar"
    exported = cli("backup", "export", str(backup["id"]), "-o", str(out))
    assert exported.code == 0, exported.err
    assert sorted(tarfile.open(out).getnames()) == ["dockerforge-export.json", "index.json.gz", "manifest.json", "volume.tar.gz"]
    assert not (tmp_path / "one.tar.part").exists()

    imported = cli("backup", "import", str(out), "--json")
    assert imported.code == 0, imported.err
    row = imported.json()
    assert row["id"] != backup["id"] and row["kind"] == "volume" and row["verify_ok"] is True

    bad = tmp_path / "bad.tar"
    data = bytearray(out.read_bytes())
    with tarfile.open(out) as tar:
        data[tar.getmember("volume.tar.gz").offset_data + 10] ^= 0xFF
    bad.write_bytes(bytes(data))
    refused = cli("backup", "import", str(bad))
    assert refused.code == 1 and "volume.tar.gz" in refused.err

    copy = unique("cli-bkp-r")
    restored = cli("backup", "restore", str(row["id"]), "--name", copy, "--host", "local")
    assert restored.code == 0, restored.err
    assert run_once(engine, "cat /data/f", copy).strip() == "portable"
