"""Engine calls for backups: stream a volume's files out as tar (and back in) through a
short-lived helper container and the archive API, so no host path is needed and it works on
remote hosts; `docker commit`; a simple exec for quiesce hooks.

The helper never starts for the archive calls: a created container is enough for the engine
to read or write its mounts. Its root file system is read-only, it has no network and no
capabilities.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from .errors import PermanentEngineError, guard

CHUNK = 1024 * 1024


def _where(client) -> str:
    return getattr(client.api, "_dockerforge_where", None) or client.api.base_url


def _helper(client, image: str, volume: str, *, read_only: bool, labels: dict, command: list[str] | None = None) -> str:
    host_config = client.api.create_host_config(
        binds={volume: {"bind": "/v", "mode": "ro" if read_only else "rw"}},
        network_mode="none", cap_drop=["ALL"] if read_only else None, security_opt=["no-new-privileges"], read_only=True,
        log_config={"Type": "json-file", "Config": {}},
    )
    created = client.api.create_container(
        image, command=command or ["true"], host_config=host_config, labels=labels, network_disabled=True, user="0:0",
    )
    return created["Id"]


def _remove_quietly(client, cid: str) -> None:
    try:
        client.api.remove_container(cid, force=True, v=False)
    except Exception:  # noqa: BLE001 - a leftover helper is labelled and harmless
        pass


@contextlib.contextmanager
def volume_tar(client, image: str, volume: str, *, labels: dict) -> Iterator[Iterator[bytes]]:
    """The volume's content as an uncompressed tar stream (entries "./...": modes, owners,
    symlinks, empty directories kept). Use as a context manager: the helper goes afterwards."""
    where = _where(client)
    with guard(where):
        cid = _helper(client, image, volume, read_only=True, labels=labels)
    try:
        with guard(where):
            stream, _stat = client.api.get_archive(cid, "/v/.", chunk_size=CHUNK)
        yield _guarded(stream, where)
    finally:
        _remove_quietly(client, cid)


def _guarded(chunks: Iterable[bytes], where: str) -> Iterator[bytes]:
    with guard(where):
        yield from chunks


def extract_into_volume(client, image: str, volume: str, chunks: Iterable[bytes], *, labels: dict, clear: bool) -> None:
    """Unpack a tar stream (as volume_tar makes) into `volume`; `clear` empties it first."""
    where = _where(client)
    if clear:
        result = run_in_volume(client, image, volume, ["sh", "-c", "rm -rf /v/* /v/.[!.]* /v/..?*; true"], labels=labels)
        if result != 0:
            raise PermanentEngineError(f"Emptying volume {volume} failed (exit code {result})")
    with guard(where):
        cid = _helper(client, image, volume, read_only=False, labels=labels)
    try:
        with guard(where):
            if not client.api.put_archive(cid, "/v", chunks):
                raise PermanentEngineError(f"The engine refused the archive for volume {volume}")
    finally:
        _remove_quietly(client, cid)


def run_in_volume(client, image: str, volume: str, command: list[str], *, labels: dict, timeout: float = 600) -> int:
    """Run a command in a helper with the volume mounted read-write at /v; its exit code."""
    where = _where(client)
    with guard(where, timeout):
        cid = _helper(client, image, volume, read_only=False, labels=labels, command=command)
        try:
            client.api.start(cid)
            return int(client.api.wait(cid, timeout=timeout)["StatusCode"])
        finally:
            _remove_quietly(client, cid)


def volume_exists(client, name: str) -> bool:
    from .errors import EngineObjectNotFound

    try:
        with guard(_where(client)):
            client.api.inspect_volume(name)
    except EngineObjectNotFound:
        return False
    return True


def inspect_volume(client, name: str) -> dict:
    with guard(_where(client)):
        return client.api.inspect_volume(name)


def commit(client, container: str, repository: str, tag: str, *, pause: bool = True) -> str:
    """`docker commit`: the container's file system as a new image; its id."""
    with guard(_where(client)):
        return client.api.commit(container, repository=repository, tag=tag, pause=pause)["Id"]


def exec_simple(client, container: str, command: list[str], *, timeout: float = 120) -> tuple[int, str]:
    """Run a hook command in a running container: (exit code, output, last 4 KB)."""
    with guard(_where(client), timeout):
        exec_id = client.api.exec_create(container, command, stdout=True, stderr=True)["Id"]
        output = client.api.exec_start(exec_id)
        code = client.api.exec_inspect(exec_id).get("ExitCode")
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else str(output)
    return (int(code) if code is not None else -1), text[-4096:]
