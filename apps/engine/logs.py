"""Raw container log streams and the engine's stream multiplexing (wire format only).

A container without a TTY sends its logs (and attach/exec output) as frames: an 8-byte
header (stream id, three zero bytes, big-endian payload length) and the payload. A container
with a TTY sends one unframed stream. The containers app turns the chunks into lines.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

from .errors import guard

STDOUT, STDERR = "stdout", "stderr"
_STREAMS = {0: STDOUT, 1: STDOUT, 2: STDERR}  # 0 is stdin, echoed only on attach
HEADER = struct.Struct(">BxxxL")


class FrameDemuxer:
    """Incremental parser of multiplexed frames: feed() bytes as they come, get (stream,
    payload) pairs; a TTY stream passes through as stdout."""

    def __init__(self, tty: bool):
        self.tty = tty
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        if self.tty:
            return [(STDOUT, bytes(data))] if data else []
        self._buffer += data
        out = []
        while len(self._buffer) >= HEADER.size:
            stream_id, length = HEADER.unpack_from(self._buffer)
            if len(self._buffer) < HEADER.size + length:
                break
            payload = bytes(self._buffer[HEADER.size : HEADER.size + length])
            del self._buffer[: HEADER.size + length]
            out.append((_STREAMS.get(stream_id, STDOUT), payload))
        return out


class LogStream:
    """An open GET /containers/{id}/logs response: iterate chunks(), close() from any thread."""

    def __init__(self, api, response, *, where: str):
        self._api = api
        self._response = response
        self._where = where
        self._sock = _socket_of(api, response)

    def chunks(self, size: int = 65536) -> Iterator[bytes]:
        # stream() yields each chunk of the chunked response as it arrives (no waiting for
        # `size` bytes), which a follow needs.
        with guard(self._where):
            yield from self._response.raw.stream(size, decode_content=False)

    def close(self) -> None:
        # shutdown() wakes a reader blocked in recv() in another thread; close() alone would not.
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._response.close()


def open_log_stream(
    client,
    container_id: str,
    *,
    follow: bool = False,
    tail: int | None = None,
    since: float | None = None,
    until: float | None = None,
    stdout: bool = True,
    stderr: bool = True,
    timestamps: bool = True,
) -> LogStream:
    """Open the engine's log stream of a container (raw, multiplexed unless it has a TTY).

    A follow stream has no read timeout (it waits for lines); close() ends it.
    """
    api = client.api
    where = getattr(api, "_dockerforge_where", "the engine")
    params = {
        "stdout": int(stdout),
        "stderr": int(stderr),
        "timestamps": int(timestamps),
        "follow": int(follow),
        "tail": "all" if tail is None else str(int(tail)),
    }
    if since is not None:
        params["since"] = f"{since:.9f}"
    if until is not None:
        params["until"] = f"{until:.9f}"
    with guard(where):
        response = api._get(api._url("/containers/{0}/logs", container_id), params=params, stream=True)
        api._raise_for_status(response)
    stream = LogStream(api, response, where=where)
    if follow and stream._sock is not None:
        stream._sock.settimeout(None)
    return stream


def container_has_tty(client, container_id: str) -> bool:
    where = getattr(client.api, "_dockerforge_where", "the engine")
    with guard(where):
        return bool(client.api.inspect_container(container_id).get("Config", {}).get("Tty"))


def _socket_of(api, response):
    """The socket under a streamed response (unix, tcp, TLS or an SSH channel), or None."""
    try:
        sock = api._get_raw_response_socket(response)
    except Exception:  # noqa: BLE001 - closing still works through the response
        return None
    return getattr(sock, "_sock", sock)
