"""Interactive exec sessions: create an exec instance and hand back its raw, hijacked socket.

The containers app's console consumer pumps bytes both ways; nothing outside this package
imports docker.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from .errors import EngineError, guard

# Ctrl-C then Ctrl-D: dockerd leaves an exec's process running when its connection closes,
# so a session ends by interrupting the foreground job and sending EOF to the shell.
_HANGUP = (b"\x03", b"\x04")


@dataclass
class ExecSession:
    client: object
    exec_id: str
    sock: object
    where: str
    keep: object = None  # the SDK's socket wrapper (holds the response): must outlive the session
    started: float = field(default_factory=time.monotonic)

    def send(self, data: bytes) -> None:
        with guard(self.where):
            self.sock.sendall(data)

    def recv(self, size: int = 65536) -> bytes:
        """Bytes from the process; b"" when it ended or the socket was closed."""
        try:
            return self.sock.recv(size)
        except OSError:
            return b""

    def resize(self, rows: int, cols: int) -> None:
        with guard(self.where):
            self.client.api.exec_resize(self.exec_id, height=rows, width=cols)

    def exit_code(self) -> int | None:
        with guard(self.where):
            info = self.client.api.exec_inspect(self.exec_id)
        return None if info.get("Running") else info.get("ExitCode")

    def close(self, hangup: bool = True) -> None:
        if hangup:
            for key in _HANGUP:
                try:
                    self.sock.sendall(key)
                except OSError:
                    break
                time.sleep(0.05)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def start_exec(
    client,
    container_id: str,
    command: list[str],
    *,
    tty: bool = True,
    rows: int | None = None,
    cols: int | None = None,
    env: dict[str, str] | None = None,
) -> ExecSession:
    """exec_create + exec_start(socket=True): a running process attached to a raw socket."""
    api = client.api
    where = getattr(api, "_dockerforge_where", "the engine")
    with guard(where):
        created = api.exec_create(container_id, command, stdin=True, stdout=True, stderr=True, tty=tty, environment=env)
        raw = api.exec_start(created["Id"], socket=True, tty=tty)
    sock = getattr(raw, "_sock", raw)  # unix: SocketIO around the socket
    if hasattr(sock, "settimeout"):
        sock.settimeout(None)  # an idle shell is not an error
    session = ExecSession(client=client, exec_id=created["Id"], sock=sock, where=where, keep=raw)
    if rows and cols:
        try:
            session.resize(rows, cols)
        except EngineError:
            pass  # a process that already ended cannot be resized; its output still arrives
    return session
