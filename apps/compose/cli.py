"""Running the Compose CLI: `docker compose` when present, else `docker-compose`.

The CLI runs with a minimal environment (the portal's own secrets, such as SECRET_KEY or
DATABASE_URL, must never reach a Compose file's interpolation), the project's working dir and
`.env`, and DOCKER_HOST pointing at the stack's host. For tcp:// TLS hosts the certificates go
to a private (0700) temp folder for the run, and REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are left
out: docker-compose v1 is `requests`, which would let them replace the host's CA.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from django.conf import settings

# Passed through from the server's environment; everything else is left out on purpose.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ")


class ComposeError(Exception):
    """A Compose run could not start or failed; the message is for people."""


class ComposeCLIMissing(ComposeError):
    pass


def detect_cli() -> list[str]:
    return list(_detect(settings.COMPOSE_CLI, os.environ.get("PATH", "")))


@lru_cache(maxsize=8)
def _detect(choice: str, path: str) -> tuple[str, ...]:
    # Keyed by the setting and PATH so a changed PATH (or a test) is seen.
    if choice not in ("", "auto"):
        argv = tuple(choice.split())
        if not shutil.which(argv[0], path=path):
            raise ComposeCLIMissing(f"The configured Compose CLI {choice!r} (DOCKERFORGE_COMPOSE_CLI) was not found.")
        return argv
    docker = shutil.which("docker", path=path)
    if docker and _answers([docker, "compose", "version"], path):
        return (docker, "compose")
    legacy = shutil.which("docker-compose", path=path)
    if legacy:
        return (legacy,)
    raise ComposeCLIMissing(
        "No Compose CLI on the DockerForge server: install the Docker Compose plugin (`docker compose`) "
        "or `docker-compose`, or set DOCKERFORGE_COMPOSE_CLI."
    )


def _answers(argv: list[str], path: str) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=10, env={"PATH": path}).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def cli_version() -> tuple[str, str] | None:
    """("docker compose", "2.29.1") or ("docker-compose", "1.29.2"); None when no CLI."""
    try:
        argv = detect_cli()
    except ComposeCLIMissing:
        return None
    return _version(tuple(argv))


@lru_cache(maxsize=8)
def _version(argv: tuple[str, ...]) -> tuple[str, str]:
    name = "docker compose" if argv[-1] == "compose" else "docker-compose"
    try:
        out = subprocess.run([*argv, "version", "--short"], capture_output=True, text=True, timeout=10,
                             env={"PATH": os.environ.get("PATH", "")}).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    return name, out.lstrip("v") or "unknown"


@contextmanager
def environment(host) -> Iterator[dict[str, str]]:
    """The CLI's environment for `host`; TLS material lives only for the `with` block."""
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    scheme = host.scheme
    if scheme == "ssh":
        raise ComposeError("Compose operations on ssh:// hosts are not supported yet: use a unix:// or tcp:// host.")
    with tempfile.TemporaryDirectory(prefix="dockerforge-compose-") as home:
        os.chmod(home, 0o700)
        env["HOME"] = home  # no user docker config or contexts leak in
        env["DOCKER_HOST"] = host.url
        if scheme == "tcp" and (host.tls_ca_cert or host.tls_client_cert):
            certs = Path(home) / "certs"
            certs.mkdir(mode=0o700)
            for name, text in (("ca.pem", host.tls_ca_cert), ("cert.pem", host.tls_client_cert), ("key.pem", host.tls_client_key)):
                if text:
                    _write_private(certs / name, text)
            env.update(DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=str(certs))
        yield env


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def project_args(project) -> list[str]:
    """-p NAME --project-directory DIR -f FILE... [--env-file DIR/.env] --ansi never."""
    if not project.config_files:
        raise ComposeError(f"Stack {project.name!r} has no Compose file DockerForge can read.")
    args = ["--ansi", "never", "-p", project.name]
    if project.working_dir:
        args += ["--project-directory", project.working_dir]
    for path in project.config_files:
        args += ["-f", path]
    env_file = Path(project.working_dir or Path(project.main_file).parent) / ".env"
    if env_file.is_file():
        args += ["--env-file", str(env_file)]
    return args


def run(project, args: list[str], *, on_line: Callable[[str], None], check_cancel: Callable[[], None] | None = None,
        timeout: float | None = None) -> int:
    """Run one CLI command for the project, streaming its output lines; returns the exit code."""
    argv = [*detect_cli(), *project_args(project), *args]
    timeout = timeout or settings.COMPOSE_TIMEOUT
    deadline = time.monotonic() + timeout
    with environment(project.host) as env:
        cwd = project.working_dir or str(Path(project.main_file).parent)
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        try:
            for line in proc.stdout:
                on_line(line.rstrip("\n"))
                if check_cancel is not None:
                    check_cancel()
                if time.monotonic() > deadline:
                    raise ComposeError(f"The Compose CLI did not finish within {timeout:.0f}s")
            return proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def capture(project, args: list[str], timeout: float = 20.0) -> str:
    """A bounded read (e.g. `logs --tail`): the whole output, or ComposeError on failure."""
    lines: list[str] = []
    code = run(project, args, on_line=lines.append, timeout=timeout)
    if code != 0:
        raise ComposeError("\n".join(lines[-20:]) or f"The Compose CLI exited with {code}")
    return "\n".join(lines)
