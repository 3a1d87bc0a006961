"""The console script's backup, monitor, analyze and update commands against the live daphne
server and the real Docker engine (labelled volumes and containers, removed by the session's
docker_socket fixture; the registry tag made here is removed by its test)."""

from __future__ import annotations

import docker
import pytest

import dockerforge
from tests.helpers import RUN_ID, TEST_LABEL, unique

from .test_live import IMAGE, api, run_container

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


@pytest.fixture
def engine(docker_socket):
    client = docker.DockerClient(base_url=docker_socket, version="1.41", timeout=60)
    yield client
    client.close()


def run_once(engine, command: str, volume: str) -> str:
    """A labelled throwaway container with `volume` at /data; its output."""
    out = engine.containers.run(IMAGE, ["sh", "-c", command], volumes={volume: {"bind": "/data", "mode": "rw"}},
                                labels={TEST_LABEL: RUN_ID}, remove=True)
    return out.decode()


def test_backup_create_verify_ls_restore_a_volume(logged_in, local_host, engine):
    cli = logged_in
    volume = unique("cli-bkv")
    engine.volumes.create(volume, labels={TEST_LABEL: RUN_ID})
    run_once(engine, "echo precious > /data/file.txt", volume)

    created = cli("backup", "create", "--volume", volume, "--host", "local", "--json")
    assert created.code == 0, created.err
    body = created.json()
    backup = body["backup"]
    assert backup["kind"] == "volume" and backup["target_name"] == volume
    assert backup["status"] == "completed" and backup["size"] > 0
    assert body["operation"]["status"] == "succeeded" and body["operation"]["result"]["backup"] == backup["id"]

    verified = cli("backup", "verify", str(backup["id"]), "--json")
    assert verified.code == 0, verified.err
    report = verified.json()
    assert report["ok"] is True and report["backup"]["verify_ok"] is True and report["backup"]["verified_at"]
    assert report["operation"]["kind"] == "backup.verify"

    listed = cli("backup", "ls", "--kind", "volume", "--json").json()
    assert backup["id"] in [b["id"] for b in listed]
    table = cli("backup", "ls")
    assert table.code == 0 and volume in table.out and "ok" in table.out

    copy = unique("cli-bkr")
    restored = cli("backup", "restore", str(backup["id"]), "--name", copy, "--json")
    assert restored.code == 0, restored.err
    assert restored.json()["restore"]["target_name"] == copy
    assert run_once(engine, "cat /data/file.txt", copy).strip() == "precious"

    # The original exists: restoring over it without --overwrite is refused (exit 1, the reason).
    refused = cli("backup", "restore", str(backup["id"]))
    assert refused.code == 1 and "exists" in refused.err
    assert cli("backup", "verify", "999999").code == 3


def test_backup_create_needs_one_target_and_a_known_volume(logged_in, local_host):
    assert logged_in("backup", "create", "--host", "local").code == 2
    missing = logged_in("backup", "create", "--volume", "no-such-volume-x")
    assert missing.code == 3 and "No such volume" in missing.err


def test_analyze_names_the_failing_log_line(logged_in, local_host, engine):
    cli = logged_in
    name = unique("cli-crash")
    line = "python: can't open file '/app/main.py': [Errno 2] No such file or directory"
    api(cli, "POST", "containers/", {
        "host": local_host["id"], "image": IMAGE, "name": name,
        "command": ["sh", "-c", f'echo "{line}"; exit 1'], "labels": {TEST_LABEL: RUN_ID},
    })
    engine_container = _wait_for(engine, name)
    assert engine_container.wait(timeout=30)["StatusCode"] == 1

    analyzed = cli("analyze", name, "--json")
    assert analyzed.code == 0, analyzed.err
    analysis = analyzed.json()
    assert analysis["status"] == "succeeded" and analysis["target_name"] == name
    cited = [ev["text"] for f in analysis["findings"] for ev in f["evidence"]]
    assert any("can't open file" in text for text in cited), analysis["findings"]
    assert analysis["explanation"]

    human = cli("troubleshoot", name)
    assert human.code == 0, human.err
    assert "can't open file" in human.out and "Explanation:" in human.out and "log:" in human.out


def _wait_for(engine, name: str, timeout: float = 30.0):
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            return engine.containers.get(name)
        except docker.errors.NotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def unreachable_registry_image(engine):
    """The test image tagged under a registry on a closed loopback port: checks get a clear
    error and nothing leaves this machine."""
    ref = f"127.0.0.1:1/{unique('cli-upd')}/busybox:test"
    repo, tag = ref.rsplit(":", 1)
    engine.images.get(IMAGE).tag(repo, tag)
    yield ref
    try:
        engine.images.remove(ref)
    except docker.errors.APIError:
        pass


def test_update_check_apply_rollback(logged_in, local_host, engine, unreachable_registry_image):
    cli = logged_in
    name = unique("cli-upd")
    accepted = api(cli, "POST", "containers/", {
        "host": local_host["id"], "image": unreachable_registry_image, "name": name,
        "command": ["sh", "-c", "while true; do sleep 1; done"], "labels": {TEST_LABEL: RUN_ID},
    })
    assert accepted["operation"]
    _wait_for(engine, name)
    checked = cli("update", "check", name, "--json")
    assert checked.code == 0, checked.err
    row = checked.json()
    assert row["container_name"] == name and row["image_ref"] == unreachable_registry_image
    assert row["status"] == "error" and row["error"]

    table = cli("update", "check", name)
    assert table.code == 0 and "error" in table.out and name in table.out
    every = cli("update", "check", "--team", str(cli.team.pk), "--json")
    assert every.code == 0, every.err
    assert name in [r["container_name"] for r in every.json()]

    apply = cli("update", "apply", name)
    assert apply.code == 1 and "run a check first or name a target" in apply.err
    rollback = cli("update", "rollback", name)
    assert rollback.code == 1 and "no succeeded update" in rollback.err


def test_monitor_top_and_metrics(logged_in, local_host):
    cli = logged_in
    name = unique("cli-mon")
    run_container(cli, local_host["id"], name)
    top = cli("monitor", "top", "--by", "mem", "--json")
    assert top.code == 0, top.err
    rows = top.json()
    assert name in [r["name"] for r in rows]
    assert all({"id", "name", "host", "latest", "sampled_at"} <= set(r) for r in rows)
    assert cli("monitor", "top").code == 0

    series = cli("monitor", "metrics", name, "--metric", "cpu,mem", "--since", "15m", "--json")
    assert series.code == 0, series.err
    data = series.json()
    assert data["target"]["name"] == name and set(data["series"]) == {"cpu", "mem"}
    assert data["units"] == {"cpu": "percent", "mem": "bytes"}

    bad = cli("monitor", "metrics", name, "--since", "yesterday-ish")
    assert bad.code == 1 and "since" in bad.err
    unknown = cli("monitor", "metrics", name, "--metric", "nope")
    assert unknown.code == 1 and "unknown metric" in unknown.err


def test_version_shows_the_servers(logged_in):
    result = logged_in("version", "--json")
    assert result.code == 0, result.err
    server = result.json()["server"]
    assert server["status"] == "ok" and server["version"] == dockerforge.__version__
    human = logged_in("version")
    assert f"server {logged_in.url}" in human.out and dockerforge.__version__ in human.out
