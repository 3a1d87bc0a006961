"""Engine calls for images, volumes, networks and short-lived helper containers.

Callers get plain dicts/iterators back and every SDK failure leaves as an EngineError
(`guard`). Streams (pull, build) are yielded as decoded JSON messages; an `error` message in
a stream is raised as PermanentEngineError carrying the engine's own text.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .errors import EngineObjectNotFound, PermanentEngineError, guard


def _where(client) -> str:
    return getattr(client.api, "_dockerforge_where", None) or client.api.base_url


def _stream_errors(messages: Iterable[dict], what: str) -> Iterator[dict]:
    """Pass stream messages through; the engine reports failures in-band as {"error": ...}."""
    for message in messages:
        if message.get("error"):
            detail = (message.get("errorDetail") or {}).get("message") or message["error"]
            raise PermanentEngineError(f"{what} failed: {detail}")
        yield message


# --- images ---------------------------------------------------------------------------------

def split_reference(reference: str) -> tuple[str, str | None]:
    """("repo", "tag") or ("repo", "sha256:…") for a digest; the tag is None when absent."""
    if "@" in reference:
        repo, digest = reference.split("@", 1)
        return repo, digest
    name, _, last = reference.rpartition("/")
    if ":" in last:
        repo_last, tag = last.rsplit(":", 1)
        return (f"{name}/{repo_last}" if name else repo_last), tag
    return reference, None


def pull(client, reference: str, auth: dict | None = None) -> Iterator[dict]:
    """Pull `reference`, yielding the engine's progress messages."""
    repo, tag = split_reference(reference)
    where = _where(client)
    with guard(where):
        stream = client.api.pull(repo, tag=tag or "latest", stream=True, decode=True, auth_config=auth or None)
        yield from _stream_errors(stream, f"Pulling {reference}")


def build(client, context: bytes, *, tag: str = "", dockerfile: str = "", buildargs: dict | None = None,
          gzip: bool = False, labels: dict | None = None) -> Iterator[dict]:
    """Build from a context tarball (bytes), yielding the engine's messages."""
    where = _where(client)
    with guard(where):
        stream = client.api.build(
            fileobj=io.BytesIO(context), custom_context=True, encoding="gzip" if gzip else None,
            tag=tag or None, dockerfile=dockerfile or None, buildargs=buildargs or None, labels=labels or None,
            rm=True, forcerm=True, decode=True, use_config_proxy=False,
        )
        yield from _stream_errors(stream, "The build")


def image_exists(client, reference: str) -> bool:
    try:
        with guard(_where(client)):
            client.api.inspect_image(reference)
    except EngineObjectNotFound:
        return False
    return True


def inspect_image(client, reference: str) -> dict:
    with guard(_where(client)):
        return client.api.inspect_image(reference)


def list_images(client) -> list[dict]:
    with guard(_where(client)):
        return client.api.images(all=False)


def tag_image(client, image: str, repository: str, tag: str | None) -> None:
    with guard(_where(client)):
        if not client.api.tag(image, repository, tag=tag or None, force=True):
            raise PermanentEngineError(f"The engine did not tag {image} as {repository}:{tag}")


def remove_image(client, image: str, force: bool = False) -> list[dict]:
    with guard(_where(client)):
        return client.api.remove_image(image, force=force) or []


def prune_images(client, dangling_only: bool = True, labels: dict | None = None) -> dict:
    filters: dict = {"dangling": dangling_only}
    if labels:
        filters["label"] = [f"{k}={v}" for k, v in labels.items()]
    with guard(_where(client)):
        return client.api.prune_images(filters=filters)


def image_history(client, image: str) -> list[dict]:
    with guard(_where(client)):
        return client.api.history(image)


def save_image(client, reference: str) -> Iterator[bytes]:
    """`docker save`: the image archive as a stream of chunks."""
    with guard(_where(client)):
        yield from client.api.get_image(reference, chunk_size=256 * 1024)


def load_image(client, data: bytes | Iterable[bytes]) -> None:
    """`docker load` from bytes or a stream of chunks (sent chunked)."""
    with guard(_where(client)):
        for _message in _stream_errors(client.api.load_image(data), "Loading the image"):
            pass


# --- volumes ----------------------------------------------------------------------------------

def list_volumes(client) -> list[dict]:
    with guard(_where(client)):
        return client.api.volumes().get("Volumes") or []


def create_volume(client, name: str, driver: str = "local", driver_opts: dict | None = None, labels: dict | None = None) -> dict:
    with guard(_where(client)):
        return client.api.create_volume(name=name or None, driver=driver or None, driver_opts=driver_opts or None, labels=labels or None)


def remove_volume(client, name: str, force: bool = False) -> None:
    with guard(_where(client)):
        client.api.remove_volume(name, force=force)


def prune_volumes(client, labels: dict | None = None) -> dict:
    filters = {"label": [f"{k}={v}" for k, v in labels.items()]} if labels else None
    with guard(_where(client)):
        return client.api.prune_volumes(filters=filters)


# --- networks ---------------------------------------------------------------------------------

def list_networks(client, *, detailed: bool = True) -> list[dict]:
    """Every network; `detailed` inspects each (the list call leaves attached containers out)."""
    with guard(_where(client)):
        summaries = client.api.networks()
        if not detailed:
            return summaries
        return [client.api.inspect_network(n["Id"]) for n in summaries]


def create_network(client, name: str, *, driver: str = "bridge", subnet: str = "", gateway: str = "",
                   internal: bool = False, attachable: bool = False, labels: dict | None = None) -> dict:
    ipam = None
    if subnet or gateway:
        pool = {"Subnet": subnet} if subnet else {}
        if gateway:
            pool["Gateway"] = gateway
        ipam = {"Driver": "default", "Config": [pool], "Options": {}}
    with guard(_where(client)):
        return client.api.create_network(
            name, driver=driver or None, ipam=ipam, internal=internal, attachable=attachable or None, labels=labels or None,
            check_duplicate=True,
        )


def connect_network(client, network: str, container: str, aliases: list[str] | None = None) -> None:
    with guard(_where(client)):
        client.api.connect_container_to_network(container, network, aliases=aliases or None)


def disconnect_network(client, network: str, container: str, force: bool = False) -> None:
    with guard(_where(client)):
        client.api.disconnect_container_from_network(container, network, force=force)


def remove_network(client, network: str) -> None:
    with guard(_where(client)):
        client.api.remove_network(network)


def prune_networks(client, labels: dict | None = None) -> dict:
    filters = {"label": [f"{k}={v}" for k, v in labels.items()]} if labels else None
    with guard(_where(client)):
        return client.api.prune_networks(filters=filters)


# --- short-lived helper containers ------------------------------------------------------------

@dataclass(frozen=True)
class HelperResult:
    exit_code: int
    stdout: bytes
    stderr: bytes


def _helper_container(client, image: str, command: list[str] | None, volume: str, labels: dict) -> str:
    host_config = client.api.create_host_config(
        binds={volume: {"bind": "/v", "mode": "ro"}},
        network_mode="none",
        log_config={"Type": "json-file", "Config": {}},  # logs must be readable whatever the host's default driver
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        read_only=True,
    )
    created = client.api.create_container(
        image, command=command, host_config=host_config, labels=labels, working_dir="/", network_disabled=True,
        user="0:0",
    )
    return created["Id"]


def run_helper(client, image: str, volume: str, command: list[str], *, labels: dict, timeout: float) -> HelperResult:
    """Run `command` in a throwaway container with `volume` mounted read-only at /v."""
    with guard(_where(client), timeout):
        return run_to_end(client, _helper_container(client, image, command, volume, labels), timeout)


def run_to_end(client, cid: str, timeout: float) -> HelperResult:
    """Start a created helper container, wait for it, collect its output, remove it."""
    try:
        client.api.start(cid)
        exit_code = client.api.wait(cid, timeout=timeout)["StatusCode"]
        stdout = client.api.logs(cid, stdout=True, stderr=False)
        stderr = client.api.logs(cid, stdout=False, stderr=True)
    finally:
        _remove_quietly(client, cid)
    return HelperResult(exit_code, stdout, stderr)


def read_volume_file(client, image: str, volume: str, path: str, *, labels: dict, max_bytes: int, timeout: float) -> tuple[dict, bytes]:
    """Copy one file out of a volume (through a created, never started, helper container).

    Returns (stat, content). Raises PermanentEngineError when it is not a regular file or is
    larger than `max_bytes` (checked from the engine's stat before any content is read).
    """
    where = _where(client)
    with guard(where, timeout):
        cid = _helper_container(client, image, None, volume, labels)
        try:
            stream, stat = client.api.get_archive(cid, f"/v/{path}", chunk_size=64 * 1024)
            mode = int(stat.get("mode", 0))
            if mode & (1 << 31) or mode & (1 << 27):  # Go's os.ModeDir / os.ModeSymlink
                stream.close() if hasattr(stream, "close") else None
                raise PermanentEngineError(f"{path} is not a regular file")
            if int(stat.get("size", 0)) > max_bytes:
                raise PermanentEngineError(f"{path} is {stat['size']} bytes: larger than the {max_bytes}-byte download limit")
            archive = _read_capped(stream, max_bytes + 64 * 1024)
        finally:
            _remove_quietly(client, cid)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        if member is None:
            raise PermanentEngineError(f"{path} is not a regular file")
        return stat, tar.extractfile(member).read()


def _read_capped(chunks: Iterable[bytes], limit: int) -> bytes:
    buf = bytearray()
    for chunk in chunks:
        buf.extend(chunk)
        if len(buf) > limit + 1024 * 1024:  # tar headers and padding add a little
            raise PermanentEngineError("the file grew beyond the download limit while it was read")
    return bytes(buf)


def _remove_quietly(client, cid: str) -> None:
    try:
        client.api.remove_container(cid, force=True, v=False)
    except Exception:  # noqa: BLE001 - best effort: a leftover helper is labelled and harmless
        pass
