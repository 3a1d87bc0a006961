"""Real servers on 127.0.0.1 for the notification tests: an HTTP receiver (webhook, Slack,
ntfy) with scripted answers, and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float

    def json(self):
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Records every POST; answers with the next scripted (status, headers, body), then 200."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path

    def answer(self, *responses: tuple[int, dict, str]) -> None:
        with self.lock:
            self.script.extend(responses)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.requests)


def start_http_receiver() -> HttpReceiver:
    receiver: HttpReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body, time.time()))
                status, headers, text = receiver.script.pop(0) if receiver.script else (200, {}, "ok")
            payload = text.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = HttpReceiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


@dataclass
class SmtpCapture:
    controller: object
    messages: list = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.controller.port

    def wait_for(self, count: int, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.messages)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp_server() -> SmtpCapture:
    from aiosmtpd.controller import Controller

    capture: SmtpCapture

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            msg = message_from_bytes(envelope.content, policy=policy.default)
            capture.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": msg})
            return "250 OK"

    # The controller's readiness check connects to its port, so it needs a real one.
    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    capture = SmtpCapture(controller)
    controller.start()
    return capture
