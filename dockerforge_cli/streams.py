"""WebSocket streams with token auth (no Origin header: the server's validator passes such a
handshake on to token auth): log follow and the interactive exec console."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable

from .context import Ctx
from .errors import CliError, NotFound, PermissionDenied, Unreachable

OPEN_TIMEOUT = 15
CLOSE_CODES = {4401: PermissionDenied, 4403: PermissionDenied, 4404: NotFound}


def _connect(ctx: Ctx, path: str, params: dict):
    from websockets.exceptions import InvalidStatus, WebSocketException
    from websockets.sync.client import connect

    url = ctx.client.ws_url(path, params)
    headers = {"Authorization": f"Token {ctx.profile.token}", "User-Agent": "dockerforge-cli"}
    try:
        return connect(url, additional_headers=headers, open_timeout=OPEN_TIMEOUT, max_size=None, proxy=None)
    except InvalidStatus as exc:
        status = exc.response.status_code
        # Channels refuses a socket before accept with 403, whatever the reason.
        raise PermissionDenied(f"The server refused the stream ({status}): wrong token, or your role may not do this.") from None
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise Unreachable(f"Cannot open the stream at {ctx.client.base}: {exc}") from None


def _closed_error(ws) -> CliError | None:
    code = getattr(ws, "close_code", None)
    if code in CLOSE_CODES:
        return CLOSE_CODES[code](f"The server closed the stream ({code}).")
    return None


def follow_logs(ctx: Ctx, container: dict, query: dict, emit: Callable[[str, str, str], None]) -> int:
    """Print new lines until the log ends (container gone/stopped) or Ctrl-C."""
    from websockets.exceptions import ConnectionClosed

    params = {k: v for k, v in query.items() if v not in (None, "")}
    ws = _connect(ctx, f"/ws/containers/{container['id']}/logs/", params)
    try:
        for raw in ws:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "lines":
                for line in message.get("lines", []):
                    text = "".join(span[1] for span in line.get("spans", []) if len(span) > 1)
                    emit(line.get("ts", ""), line.get("stream", "stdout"), text)
                sys.stdout.flush()
            elif kind == "dropped":
                ctx.out.info(f"[{message.get('count')} lines dropped: the terminal could not keep up]")
            elif kind == "end":
                return 0
            elif kind == "error":
                raise CliError(message.get("message") or json.dumps(message.get("errors")))
    except KeyboardInterrupt:
        return 0
    except ConnectionClosed:
        pass
    finally:
        ws.close()
    error = _closed_error(ws)
    if error:
        raise error
    return 0


def _terminal_size() -> tuple[int, int]:
    size = os.get_terminal_size(sys.stdout.fileno()) if sys.stdout.isatty() else os.terminal_size((80, 24))
    return size.lines, size.columns


class ExecSession:
    """Keystrokes -> binary frames; binary frames -> stdout; the exit code from {"type": "exit"}."""

    def __init__(self, ctx: Ctx, ws):
        self.ctx = ctx
        self.ws = ws
        self.exit_code: int | None = None
        self.error: str | None = None
        self.done = threading.Event()

    def receive(self) -> None:
        from websockets.exceptions import ConnectionClosed

        out = sys.stdout.buffer
        try:
            for message in self.ws:
                if isinstance(message, bytes):
                    out.write(message)
                    out.flush()
                    continue
                data = json.loads(message)
                if data.get("type") == "exit":
                    self.exit_code = data.get("code")
                elif data.get("type") == "error":
                    self.error = data.get("message") or "exec failed"
        except ConnectionClosed:
            pass
        finally:
            self.done.set()

    def send_stdin(self, interactive: bool) -> None:
        import select

        fd = sys.stdin.fileno()
        while not self.done.is_set():
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            data = os.read(fd, 4096)
            if not data:
                if not interactive:
                    self._send(b"\x04")  # end of piped input: Ctrl-D for the TTY session
                return
            self._send(data)

    def _send(self, data: bytes) -> None:
        try:
            self.ws.send(data)
        except Exception:  # noqa: BLE001 - the session ended under us
            self.done.set()

    def resize(self, *_):
        rows, cols = _terminal_size()
        try:
            self.ws.send(json.dumps({"type": "resize", "rows": rows, "cols": cols}))
        except Exception:  # noqa: BLE001
            pass


def exec_session(ctx: Ctx, container: dict, command: list[str]) -> int:
    import shlex

    rows, cols = _terminal_size()
    params = {"rows": rows, "cols": cols}
    if command:
        params["cmd"] = shlex.join(command)
    ws = _connect(ctx, f"/ws/containers/{container['id']}/exec/", params)
    session = ExecSession(ctx, ws)
    reader = threading.Thread(target=session.receive, daemon=True)
    reader.start()
    interactive = sys.stdin.isatty()
    saved = None
    try:
        if interactive:
            import termios
            import tty

            saved = termios.tcgetattr(sys.stdin.fileno())
            tty.setraw(sys.stdin.fileno())
            signal.signal(signal.SIGWINCH, session.resize)
        session.send_stdin(interactive)
        session.done.wait()
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
        ws.close()
        reader.join(timeout=5)
    error = _closed_error(ws)
    if error:
        raise error
    if session.error:
        raise CliError(session.error)
    return int(session.exit_code) if isinstance(session.exit_code, int) else 0
