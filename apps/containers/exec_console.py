"""The exec console's service side: command parsing, starting a session on the container's
host, and auditing its start and end (an interactive session lives in its consumer, not in
an Operation, and is audited there: DESIGN.md, Layers)."""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field

from django.conf import settings

from apps.activity.audit import record_action
from apps.core import actor as actor_ctx
from apps.engine.exec import ExecSession, start_exec

MAX_COMMAND_CHARS = 512
MIN_SIZE, MAX_SIZE = 1, 1000
EXIT_WAIT = 2.0  # seconds to wait for the engine to record an ended process's exit code


def default_command() -> list[str]:
    return list(getattr(settings, "CONTAINER_EXEC_COMMAND", ["sh"]))


def parse_command(raw: str | None) -> list[str]:
    """The command to run ('sh' when empty), split like a shell would; ValueError if bad."""
    raw = (raw or "").strip()
    if not raw:
        return default_command()
    if len(raw) > MAX_COMMAND_CHARS:
        raise ValueError(f"The command may have at most {MAX_COMMAND_CHARS} characters.")
    if "\x00" in raw:
        raise ValueError("The command may not contain NUL characters.")
    try:
        argv = shlex.split(raw)
    except ValueError as exc:
        raise ValueError(f"Cannot parse the command: {exc}") from None
    if not argv:
        raise ValueError("Enter a command.")
    return argv


def parse_size(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if MIN_SIZE <= number <= MAX_SIZE else None


@dataclass
class ConsoleSession:
    """One browser/CLI console: the engine session plus what the audit records at the end."""

    container: object
    command: list[str]
    engine: ExecSession
    started: float = field(default_factory=time.monotonic)
    bytes_in: int = 0
    bytes_out: int = 0
    ended: bool = False


def open_session(container, command: list[str], rows: int | None = None, cols: int | None = None) -> ConsoleSession:
    from apps.hosts.services import client_for

    client = client_for(container.host)
    engine = start_exec(client, container.docker_id, command, tty=True, rows=rows, cols=cols)
    return ConsoleSession(container=container, command=command, engine=engine)


def audit_start(actor: actor_ctx.Actor, session: ConsoleSession) -> None:
    with actor_ctx.acting(actor):
        record_action("exec.start", session.container, {"command": session.command, "exec_id": session.engine.exec_id})


def hang_up(session: ConsoleSession) -> int | None:
    """End the engine side (the process would otherwise outlive the socket); its exit code
    when it has ended. Blocking engine I/O: call it off the event loop."""
    session.engine.close(hangup=True)
    # The engine records the exit a moment after the stream ends: wait for it, briefly.
    deadline = time.monotonic() + EXIT_WAIT
    while True:
        try:
            code = session.engine.exit_code()
        except Exception:  # noqa: BLE001 - the engine may be gone; the audit row still matters
            return None
        if code is not None or time.monotonic() >= deadline:
            return code
        time.sleep(0.05)


def audit_end(actor: actor_ctx.Actor, session: ConsoleSession, exit_code: int | None) -> None:
    with actor_ctx.acting(actor):
        record_action(
            "exec.end",
            session.container,
            {
                "command": session.command,
                "exec_id": session.engine.exec_id,
                "exit_code": exit_code,
                "seconds": round(time.monotonic() - session.started, 3),
                "bytes_in": session.bytes_in,
                "bytes_out": session.bytes_out,
            },
        )
