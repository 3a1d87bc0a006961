"""Acceptance: the real console script against a live daphne server and the real Docker
engine: login, add the local host, a labelled container created through the API, then
ps, logs (and -f), inspect, exec, stop, rm, scan, audit; exit codes 3 and 4; completion."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import RUN_ID, TEST_LABEL, unique

from .conftest import Cli, cli_command

pytestmark = [pytest.mark.e2e, pytest.mark.docker]
IMAGE = "dockerforge/busybox:test"


def complete(cli: Cli, tmp_path: Path, line: str, shell: str = "bash", env: dict | None = None) -> list[str]:
    """Run argcomplete's protocol against the console script, as bash or zsh would."""
    out = tmp_path / f"completion-{time.monotonic_ns()}.txt"
    extra = {"_ARGCOMPLETE": "1", "_ARGCOMPLETE_SHELL": shell, "COMP_LINE": line, "COMP_POINT": str(len(line)),
             "_ARGCOMPLETE_STDOUT_FILENAME": str(out), "_ARGCOMPLETE_IFS": "\n", **(env or {})}
    proc = subprocess.run(cli_command(), env=cli.env(extra), capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    words = [w for w in out.read_text().split("\n") if w]
    return [(w.split(":", 1)[0] if shell == "zsh" else w).strip() for w in words]


def api(cli: Cli, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(f"{cli.url}/api/v1/{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Token {cli.token()}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"null")


CASE_LABEL = "dockerforge.test.case"


def run_container(cli: Cli, host_id: int, name: str) -> dict:
    """Create and start a labelled container through the API (the operation runs eagerly)."""
    accepted = api(cli, "POST", "containers/", {
        "host": host_id, "image": IMAGE, "name": name,
        "command": ["sh", "-c", "echo hello-from-cli; echo second line; while true; do sleep 1; done"],
        # The run label (cleanup) and one of this case's own: other tests of the run may still
        # have labelled containers on the shared engine, and the mirror syncs them all.
        "labels": {TEST_LABEL: RUN_ID, CASE_LABEL: name},
    })
    op = api(cli, "GET", f"operations/{accepted['operation']}/")
    deadline = time.monotonic() + 60
    while op["status"] not in ("succeeded", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.3)
        op = api(cli, "GET", f"operations/{accepted['operation']}/")
    assert op["status"] == "succeeded", op
    return op


def test_login_stores_a_private_profile(logged_in):
    path = logged_in.config_home / "dockerforge" / "config.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    data = json.loads(path.read_text())
    assert data["profiles"]["default"]["url"] == logged_in.url
    assert len(data["profiles"]["default"]["token"]) > 20
    listing = logged_in("config", "ls", "--json").json()
    shown = {i["key"]: i["value"] for i in listing["items"]}
    assert data["profiles"]["default"]["token"] not in json.dumps(listing)  # masked
    assert shown["default.token"].endswith("…")


def test_acceptance_flow(logged_in, local_host, tmp_path):
    cli = logged_in
    # hosts ls / test
    hosts = cli("hosts", "ls", "--json").json()
    assert [h["name"] for h in hosts] == ["local"] and hosts[0]["status"] == "up"
    tested = cli("hosts", "test", "local", "--json")
    assert tested.code == 0 and tested.json()["ok"] is True

    name = unique("cli")
    op = run_container(cli, local_host["id"], name)
    container_id = op["result"]["container"]

    # ps: running, labelled, by name; human table too
    rows = cli("ps", "--label", f"{CASE_LABEL}={name}", "--json").json()
    assert [(r["id"], r["name"], r["state"]) for r in rows] == [(container_id, name, "running")]
    table = cli("ps", "--label", f"{CASE_LABEL}={name}")
    assert table.code == 0 and name in table.out and "running" in table.out

    # logs
    logs = cli("logs", name, "--json").json()
    texts = [line["text"] for line in logs["lines"]]
    assert "hello-from-cli" in texts and "second line" in texts
    plain = cli("containers", "logs", name, "--tail", "1")
    assert plain.out.strip().splitlines() == ["second line"]

    # logs -f over the WebSocket (token header, no Origin): ends when the container is stopped
    follower = subprocess.Popen([*cli_command(), "logs", "-f", name, "--tail", "2", "--json"], env=cli.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)

    # inspect and exec (interactive protocol, non-TTY stdin)
    inspected = cli("inspect", name, "--json").json()
    assert inspected["id"] == container_id and inspected["labels"][TEST_LABEL] == RUN_ID
    executed = cli("exec", name, "--", "sh", "-c", "echo exec-$((40+2)); exit 3")
    assert "exec-42" in executed.out
    assert executed.code == 3, executed.err

    # stop
    stopped = cli("stop", name, "-t", "1", "--json")
    assert stopped.code == 0, stopped.err
    [result] = stopped.json()
    assert result["operation"]["status"] == "succeeded" and result["container"] == container_id
    assert cli("ps", "-a", "--label", f"{CASE_LABEL}={name}", "--json").json()[0]["state"] == "exited"
    try:
        out, err = follower.communicate(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
    followed = [json.loads(line)["text"] for line in out.splitlines()]
    assert followed[:2] == ["hello-from-cli", "second line"], (out, err)
    assert follower.returncode == 0, err

    # rm
    removed = cli("rm", name, "--json")
    assert removed.code == 0, removed.err
    assert removed.json()[0]["operation"]["status"] == "succeeded"
    assert cli("ps", "-a", "--label", f"{CASE_LABEL}={name}", "--json").json() == []
    assert cli("logs", name).code == 3

    # scan the image the container ran
    scanned = cli("scan", IMAGE, "--json")
    assert scanned.code == 0, scanned.err
    body = scanned.json()
    assert body["scan"]["status"] == "succeeded" and body["scan"]["image_ref"] == IMAGE
    assert body["scan"]["operation"] == body["operation"]  # the scan this command started
    assert isinstance(body["scan"]["package_count"], int)  # busybox-static: no package database
    assert isinstance(body["findings"], list)

    # images / volumes / networks lists see the mirror
    images = cli("images", "--json").json()
    assert any(IMAGE in (i.get("repo_tags") or []) for i in images)
    networks = cli("networks", "ls", "--json").json()
    assert {"bridge", "host"} <= {n["name"] for n in networks}
    assert cli("volumes", "--json").code == 0
    ops = cli("operations", "ls", "--json").json()
    assert {"scans.scan"} <= {o["kind"] for o in ops}


def test_audit_and_completion_of_container_names(logged_in, local_host, tmp_path):
    cli = logged_in
    name = unique("cli-audit")
    run_container(cli, local_host["id"], name)
    audited = cli("audit", name, "--json")
    assert audited.code == 0, audited.err
    report = audited.json()
    assert report["container_name"] == name and report["results"]

    prefix = name[:-3]
    words = complete(cli, tmp_path, f"dockerforge stop {prefix}")
    assert words == [name]
    zsh = complete(cli, tmp_path, f"dockerforge containers logs {prefix}", shell="zsh")
    assert name in zsh
    assert complete(cli, tmp_path, "dockerforge stop zz-no-such-") == []


def test_wrong_token_exits_4_with_one_line(logged_in):
    result = logged_in("ps", env={"DOCKERFORGE_TOKEN": "not-a-real-token"})
    assert result.code == 4
    assert result.err.count("\n") == 1 and "Authentication failed" in result.err
    assert "not-a-real-token" not in result.err


def test_unknown_container_exits_3(logged_in, local_host):
    for args in (("logs", "no-such-container-x"), ("stop", "no-such-container-x"), ("inspect", "999999")):
        result = logged_in(*args)
        assert result.code == 3, (args, result.err)
        assert "No such container" in result.err


def test_viewer_may_not_stop_exit_4(logged_in, local_host, live_daphne, tmp_path):
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Membership
    from apps.core.roles import Role

    from .conftest import PASSWORD

    name = unique("cli-viewer")
    run_container(logged_in, local_host["id"], name)
    viewer = get_user_model().objects.create_user("cliviewer", password=PASSWORD)
    Membership.objects.create(user=viewer, team=logged_in.team, role=Role.VIEWER)
    other = Cli(tmp_path / "viewer-config")
    other.config_home.mkdir()
    assert other("login", live_daphne, "-u", "cliviewer", "--password-stdin", "--profile", "ro", input=PASSWORD).code == 0
    assert [r["name"] for r in other("ps", "--name", name, "--json").json()] == [name]
    result = other("stop", name)
    assert result.code == 4 and "Permission denied" in result.err
    assert other("exec", name, "--", "true").code == 4
