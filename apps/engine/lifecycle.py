"""Container lifecycle calls on a client from `engine.client.connect` (the containers app's
lifecycle, create and recreate services use these; they never touch the SDK themselves).

Every function raises Transient/PermanentEngineError or EngineObjectNotFound (never SDK
errors) and works on raw Engine API shapes (inspect dicts, the create body), which is what
recreate needs to copy a container faithfully.
"""

from __future__ import annotations

from .errors import EngineObjectNotFound, guard


def inspect_container(client, ref: str, where: str = "the engine") -> dict:
    with guard(where):
        return client.api.inspect_container(ref)


def inspect_image(client, ref: str, where: str = "the engine") -> dict | None:
    """The image's inspect, or None when the engine no longer has it."""
    try:
        with guard(where):
            return client.api.inspect_image(ref)
    except EngineObjectNotFound:
        return None


def start(client, ref: str, where: str = "the engine") -> None:
    with guard(where):
        client.api.start(ref)


def stop(client, ref: str, timeout: int | None = None, where: str = "the engine") -> None:
    # The SDK adds `timeout` to the HTTP read timeout, so a long grace period does not time out.
    with guard(where):
        client.api.stop(ref, timeout=timeout)


def restart(client, ref: str, timeout: int | None = None, where: str = "the engine") -> None:
    with guard(where):
        client.api.restart(ref, timeout=timeout)


def pause(client, ref: str, where: str = "the engine") -> None:
    with guard(where):
        client.api.pause(ref)


def unpause(client, ref: str, where: str = "the engine") -> None:
    with guard(where):
        client.api.unpause(ref)


def kill(client, ref: str, signal: str = "SIGKILL", where: str = "the engine") -> None:
    with guard(where):
        client.api.kill(ref, signal=signal)


def remove(client, ref: str, *, force: bool = False, volumes: bool = False, where: str = "the engine") -> None:
    with guard(where):
        client.api.remove_container(ref, force=force, v=volumes)


def rename(client, ref: str, name: str, where: str = "the engine") -> None:
    with guard(where):
        client.api.rename(ref, name)


def create(client, body: dict, name: str | None = None, where: str = "the engine") -> str:
    """POST /containers/create with a raw body (Config + HostConfig + NetworkingConfig)."""
    with guard(where):
        return client.api.create_container_from_config(body, name=name)["Id"]


def connect_network(client, container: str, network: str, endpoint: dict | None = None, where: str = "the engine") -> None:
    """Attach a container to one more network, keeping aliases and static addresses."""
    endpoint = endpoint or {}
    ipam = endpoint.get("IPAMConfig") or {}
    with guard(where):
        client.api.connect_container_to_network(
            container,
            network,
            aliases=endpoint.get("Aliases") or None,
            links=endpoint.get("Links") or None,
            ipv4_address=ipam.get("IPv4Address") or None,
            ipv6_address=ipam.get("IPv6Address") or None,
            link_local_ips=ipam.get("LinkLocalIPs") or None,
            driver_opt=endpoint.get("DriverOpts") or None,
        )


def logs_tail(client, ref: str, lines: int = 20, where: str = "the engine") -> str:
    """The last lines of output, decoded leniently (logs are untrusted bytes)."""
    with guard(where):
        raw = client.api.logs(ref, stdout=True, stderr=True, tail=lines)
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)


def image_exists(client, ref: str, where: str = "the engine") -> bool:
    return inspect_image(client, ref, where) is not None
