"""The real `dockerforge` console script, run as a subprocess against a live daphne server
(tests/e2e's fixture) with this worktree's code first on PYTHONPATH and its own config dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership, Team
from apps.core.roles import Role
from tests.e2e.conftest import PASSWORD, REPO_ROOT, e2e_db, live_daphne  # noqa: F401 - fixtures

SCRIPT = Path(sys.executable).parent / "dockerforge"
CLI_TIMEOUT = 120


def cli_command() -> list[str]:
    # The installed console script (editable, pointing at /work/main); PYTHONPATH makes this
    # checkout's package win. Without the script (a bare checkout): the module.
    return [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "dockerforge_cli.main"]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


class Cli:
    def __init__(self, config_home: Path, url: str = ""):
        self.config_home = config_home
        self.url = url

    def env(self, extra: dict | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKERFORGE_URL", "DOCKERFORGE_TOKEN", "DOCKERFORGE_PROFILE", "_ARGCOMPLETE"))}
        env.update(PYTHONPATH=str(REPO_ROOT), XDG_CONFIG_HOME=str(self.config_home), NO_COLOR="1", COLUMNS="200")
        env.update(extra or {})
        return env

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None, timeout: float = CLI_TIMEOUT) -> Result:
        proc = subprocess.run([*cli_command(), *args], input=input, capture_output=True, text=True,
                              env=self.env(env), timeout=timeout, cwd=self.config_home,
                              stdin=None if input is not None else subprocess.DEVNULL)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def token(self) -> str:
        data = json.loads((self.config_home / "dockerforge" / "config.json").read_text())
        return data["profiles"][data["settings"]["default_profile"]]["token"]


@pytest.fixture
def cli(tmp_path) -> Cli:
    home = tmp_path / "config"
    home.mkdir()
    return Cli(home)


@pytest.fixture
def admin(e2e_db):  # noqa: F811 - the imported fixture
    """An installation superuser (may register the server's own engine), admin of one team."""
    user = get_user_model().objects.create_superuser("cliroot", "cliroot@example.test", PASSWORD)
    team = Team.objects.create(name="CLI team", slug="cli-team")
    Membership.objects.create(user=user, team=team, role=Role.ADMIN)
    return user, team


@pytest.fixture
def logged_in(cli, admin, live_daphne) -> Cli:  # noqa: F811
    result = cli("login", live_daphne, "--username", "cliroot", "--password-stdin", input=PASSWORD + "\n")
    assert result.code == 0, result.err
    cli.url = live_daphne
    cli.team = admin[1]
    return cli


@pytest.fixture
def local_host(logged_in, docker_socket) -> dict:
    """The server's own engine, registered and mirrored through `hosts add`."""
    result = logged_in("hosts", "add", "local", docker_socket, "--team", str(logged_in.team.pk), "--json")
    assert result.code == 0, result.err
    host = result.json()
    assert host["sync"]["status"] == "succeeded"
    return host
