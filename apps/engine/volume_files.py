"""File-level work in a volume through a short-lived helper container that runs a command and
streams its stdout back over the attach API (binary-safe: the engine frames stdout and
stderr; the log driver is "none", so nothing is kept on the host).

Used by incremental volume backups: list every entry with its metadata, archive a given list
of paths (busybox `cpio -o -H newc -0`, which reads NUL-separated names: names may hold any
byte), delete a given list of paths. Inputs (path lists) go in as files under /in through the
archive API before the helper starts. The helper has no network and only the capabilities it
needs (reading every file needs CAP_DAC_READ_SEARCH; deleting needs the default set).
"""

from __future__ import annotations

import contextlib
import io
import tarfile
from collections.abc import Iterator

from .errors import PermanentEngineError, guard

STDERR_TAIL = 4000


def _where(client) -> str:
    return getattr(client.api, "_dockerforge_where", None) or client.api.base_url


def _tar_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"in/{name}")
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@contextlib.contextmanager
def run_streaming(client, image: str, volume: str, command: list[str], *, labels: dict, writable: bool = False,
                  inputs: dict[str, bytes] | None = None) -> Iterator[Iterator[bytes]]:
    """Run `command` with the volume at /v (read-only unless `writable`) and `inputs` as files
    in /in; yields its stdout as chunks. When the stream ends, a non-zero exit code raises
    PermanentEngineError with the end of stderr. The helper goes afterwards."""
    where = _where(client)
    caps = {} if writable else {"cap_drop": ["ALL"], "cap_add": ["DAC_READ_SEARCH"]}
    with guard(where):
        host_config = client.api.create_host_config(
            binds={volume: {"bind": "/v", "mode": "rw" if writable else "ro"}}, network_mode="none",
            security_opt=["no-new-privileges"], read_only=not inputs, log_config={"Type": "none", "Config": {}}, **caps,
        )
        cid = client.api.create_container(image, command=command, host_config=host_config, labels=labels,
                                          network_disabled=True, user="0:0")["Id"]
    frames = None
    try:
        with guard(where):
            if inputs and not client.api.put_archive(cid, "/", _tar_of(inputs)):
                raise PermanentEngineError("The engine refused the helper's input files")
            frames = client.api.attach(cid, stdout=True, stderr=True, stream=True, logs=False, demux=True)
            client.api.start(cid)
        stderr = bytearray()
        yield _stdout(frames, stderr, client, cid, where)
    finally:
        if frames is not None:  # a consumer that stopped early: hang up before removing the helper
            with contextlib.suppress(Exception):
                frames.close()
        with contextlib.suppress(Exception):  # a leftover helper is labelled and harmless
            client.api.remove_container(cid, force=True, v=False)


def _stdout(frames, stderr: bytearray, client, cid: str, where: str) -> Iterator[bytes]:
    with guard(where):
        for out, err in frames:
            if err:
                stderr += err
                del stderr[:-STDERR_TAIL]
            if out:
                yield out
        code = int(client.api.wait(cid, timeout=60)["StatusCode"])
    if code != 0:
        raise PermanentEngineError(f"The volume helper failed (exit {code}): {stderr.decode('utf-8', 'replace')[-500:]}")


def run_output(client, image: str, volume: str, command: list[str], *, labels: dict, writable: bool = False,
               inputs: dict[str, bytes] | None = None) -> bytes:
    """The whole stdout of a helper command (bounded outputs such as a listing)."""
    with run_streaming(client, image, volume, command, labels=labels, writable=writable, inputs=inputs) as chunks:
        return b"".join(chunks)
