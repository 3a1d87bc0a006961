"""The console script without a server: no Django import, offline `compose validate`,
config profiles (0600), usage and connection errors, human units."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from dockerforge_cli.output import human_size, relative_time, use_color
from tests.e2e.conftest import REPO_ROOT

BROKEN = """services:
  web:
    image: nginx
    ports:
      - "80:80"
  db:
    image: postgres
    depends_on: [cache]
    ports
"""
VALID = """services:
  web:
    image: nginx:${TAG:-1.25}
    ports: ["8080:80"]
"""


def test_importing_the_cli_imports_no_django():
    code = ("import dockerforge_cli.main as m, sys; m.build_parser(); "
            "import dockerforge_cli.commands.compose, dockerforge_cli.streams, dockerforge_cli.completion; "
            "assert 'django' not in sys.modules, 'django imported'; print('clean')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                          env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "clean"


def test_compose_validation_module_is_pure():
    code = "import apps.compose.validation, sys; assert 'django' not in sys.modules; print('pure')"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                          env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.stdout.strip() == "pure", proc.stderr


def test_compose_validate_broken_file_prints_line_and_column_without_a_server(cli, tmp_path):
    path = tmp_path / "compose.yml"
    path.write_text(BROKEN)
    # A server URL that nothing answers: validation must not need it.
    result = cli("compose", "validate", str(path), env={"DOCKERFORGE_URL": "http://127.0.0.1:1"})
    assert result.code == 1
    assert f"{path}:10:1: error:" in result.err or f"{path}:9:" in result.err, result.err
    assert "line " in result.err and "column " in result.err


def test_compose_validate_json_and_valid_file(cli, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("services:\n  web:\n    image: nginx\n    depends_on: [nope]\n")
    result = cli("compose", "validate", str(broken), "--json")
    assert result.code == 1
    body = result.json()
    assert body["valid"] is False
    error = body["errors"][0]
    assert "nope" in error["message"] and error["line"] == 4 and error["column"]

    valid = tmp_path / "ok.yml"
    valid.write_text(VALID)
    result = cli("compose", "validate", str(valid))
    assert result.code == 0, result.err
    assert "valid" in result.out


def test_server_down_is_a_clear_message_and_exit_1(cli):
    result = cli("ps", env={"DOCKERFORGE_URL": "http://127.0.0.1:1", "DOCKERFORGE_TOKEN": "x"})
    assert result.code == 1
    assert "Cannot reach the DockerForge server at http://127.0.0.1:1" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err


def test_no_server_configured_is_a_usage_error(cli):
    result = cli("ps")
    assert result.code == 2
    assert "dockerforge login URL" in result.err


def test_usage_errors_exit_2(cli):
    assert cli("containers").code == 2
    assert cli("ps", "--state", "sleeping").code == 2
    assert cli("config", "set", "color", "purple").code == 2
    assert cli().code == 2


def test_config_set_get_ls_and_permissions(cli):
    assert cli("config", "set", "default.url", "http://127.0.0.1:9/").code == 0
    assert cli("config", "get", "default.url").out.strip() == "http://127.0.0.1:9"
    assert cli("config", "set", "output", "json").code == 0
    assert cli("config", "get", "output").json() == {"key": "output", "value": "json"}
    path = cli.config_home / "dockerforge" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listing = cli("config", "ls")  # output=json is now the default
    body = json.loads(listing.out)
    assert {"key": "output", "value": "json", "scope": "setting"} in body["items"]
    assert cli("config", "set", "default.token", "abc").code == 2  # tokens only through login
    assert cli("--profile", "missing", "ps").code == 2


def test_completion_shell_code(cli):
    for shell in ("bash", "zsh"):
        result = cli("completion", shell)
        assert result.code == 0
        assert "dockerforge" in result.out and "_ARGCOMPLETE" in result.out


def test_completion_of_subcommands(cli, tmp_path):
    from tests.cli.test_live import complete

    words = complete(cli, tmp_path, "dockerforge co")
    assert {"compose", "config", "containers", "completion"} <= set(words)
    assert "start" in complete(cli, tmp_path, "dockerforge containers st")
    zsh = complete(cli, tmp_path, "dockerforge ps --st", shell="zsh")
    assert any(w.startswith("--state") for w in zsh)


def test_human_units():
    assert human_size(0) == "0B"
    assert human_size(1500) == "1.5kB"
    assert human_size(4_300_000) == "4.3MB"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert relative_time((now - timedelta(minutes=3)).isoformat(), now) == "3 minutes ago"
    assert relative_time((now - timedelta(hours=1)).isoformat(), now) == "1 hour ago"
    assert relative_time((now - timedelta(seconds=2)).isoformat(), now) == "just now"
    assert relative_time(None) == "-"


def test_colour_only_on_a_terminal_and_no_color(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color("auto", Tty()) is True
    assert use_color("auto", open("/dev/null", "w")) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color("auto", Tty()) is False
    assert use_color("always", Tty()) is True  # an explicit choice overrides NO_COLOR
    assert use_color("never", Tty()) is False


def test_update_target_keeps_the_repository():
    from dockerforge_cli.commands.updates import target_ref

    assert target_ref("127.0.0.1:5000/demo/app:1.0", "1.1") == "127.0.0.1:5000/demo/app:1.1"
    assert target_ref("127.0.0.1:5000/demo/app", "2") == "127.0.0.1:5000/demo/app:2"
    assert target_ref("demo/app:1@sha256:" + "a" * 64, "2") == "demo/app:2"
    assert target_ref("demo/app:1", "other/app:3") == "other/app:3"  # a whole reference stays


def test_metric_values_in_their_units():
    from dockerforge_cli.commands.monitor import format_value

    assert format_value(12.345, "percent") == "12.3%"
    assert format_value(4_300_000, "bytes") == "4.3MB"
    assert format_value(1500, "bytes/s") == "1.5kB/s"
    assert format_value(7, "count") == "7"
    assert format_value(None, "bytes") == "-"


def test_new_command_groups_complete(cli, tmp_path):
    from tests.cli.test_live import complete

    assert {"create", "ls", "verify", "restore"} <= set(complete(cli, tmp_path, "dockerforge backup "))
    assert {"check", "apply", "rollback"} <= set(complete(cli, tmp_path, "dockerforge update "))
    assert {"top", "metrics"} <= set(complete(cli, tmp_path, "dockerforge monitor "))
    assert "troubleshoot" in complete(cli, tmp_path, "dockerforge tr")


def test_backup_create_takes_exactly_one_target(cli):
    both = cli("backup", "create", "--volume", "a", "--image", "b")
    assert both.code == 2 and "not allowed with" in both.err


def test_durations_and_label_selectors():
    import argparse

    import pytest

    from dockerforge_cli.commands.alerts import format_duration, parse_duration, parse_labels
    from dockerforge_cli.errors import UsageError

    assert [parse_duration(t) for t in ("2h", "1h30m", "90m", "1d", "120")] == [7200, 5400, 5400, 86400, 120]
    assert format_duration(5400) == "1h30m" and format_duration(86400 * 8) == "1w1d"
    for bad in ("2x", "h", "1h 30m", "-5m", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_duration(bad)
    assert parse_labels(["app=web", "tier", "env = prod"]) == {"app": "web", "tier": "", "env": "prod"}
    with pytest.raises(UsageError):
        parse_labels(["=web"])


def test_alerts_and_notify_usage_errors_exit_2(cli):
    # Parsed and refused before any server is asked (none is configured here).
    assert cli("alerts", "silence", "--rule", "1", "--for", "soon").code == 2
    assert cli("alerts", "silence", "--rule", "1").code == 2  # --for is required
    nothing = cli("alerts", "silence", "--for", "2h")
    assert nothing.code == 2 and "--rule, --host, --label or --target" in nothing.err
    assert cli("alerts", "ls", "--status", "open").code == 2
    assert cli("notify", "test").code == 2
    assert cli("notify", "channels").code == 2


def test_alerts_and_notify_complete(cli, tmp_path):
    from tests.cli.test_live import complete

    assert {"ls", "ack", "silence"} <= set(complete(cli, tmp_path, "dockerforge alerts "))
    assert {"channels", "test"} <= set(complete(cli, tmp_path, "dockerforge notify "))
    assert "ls" in complete(cli, tmp_path, "dockerforge notify channels ")


def test_chat_completes_and_needs_a_container(cli, tmp_path):
    from tests.cli.test_live import complete

    assert "chat" in complete(cli, tmp_path, "dockerforge ch")
    assert {"--message", "--conversation", "--new"} <= set(complete(cli, tmp_path, "dockerforge chat x --"))
    assert cli("chat").code == 2
