"""A local file error (disk full, permission denied) while the CLI streams to or from the
server is reported as what it is, exit 1, never as "cannot reach the server"."""

from __future__ import annotations

import errno
import http.server
import os
import threading

import pytest

from dockerforge_cli.client import Client, LocalFileError
from dockerforge_cli.config import Profile
from dockerforge_cli.errors import FAILURE, Unreachable


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        body = os.urandom(3 * 1024 * 1024)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-tar")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        try:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")
        except OSError:  # the client gave up sending (the point of the test)
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _client(url: str) -> Client:
    return Client(Profile(name="t", url=url, token="x"))


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_disk_full_while_downloading_is_a_local_error(server):
    with open("/dev/full", "wb", buffering=0) as full, pytest.raises(LocalFileError) as exc:
        _client(server).request("GET", "backups/1/export/", sink=full.write)
    assert exc.value.exit_code == FAILURE and not isinstance(exc.value, Unreachable)
    assert "Cannot write the local file" in exc.value.message and os.strerror(errno.ENOSPC) in exc.value.message
    assert "reach" not in exc.value.message


def test_unreadable_upload_is_a_local_error(server):
    def chunks():
        yield b"head"
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/backups/x.tar")

    with pytest.raises(LocalFileError) as exc:
        _client(server).request("POST", "backups/import/", data=chunks(), headers={"Content-Length": "100"})
    assert exc.value.message == "Cannot read the local file /backups/x.tar: Permission denied."


def test_the_server_down_is_still_unreachable():
    with pytest.raises(Unreachable, match="Cannot reach the DockerForge server"):
        _client("http://127.0.0.1:1").request("GET", "version/", sink=lambda chunk: None)


def test_export_into_an_unwritable_place_says_so(cli, tmp_path):
    target = tmp_path / "missing-dir" / "out.tar"
    result = cli("backup", "export", "7", "-o", str(target), env={"DOCKERFORGE_URL": "http://127.0.0.1:1", "DOCKERFORGE_TOKEN": "x"})
    assert result.code == 1 and "Traceback" not in result.err
    assert f"Cannot write the local file {target}.part: No such file or directory." in result.err
    assert "reach" not in result.err
