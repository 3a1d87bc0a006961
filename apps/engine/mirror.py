"""Engine reads the containers mirror needs: lists, inspects, `top` and the event stream.

Thin wrappers over the SDK's low-level API (`client.api`), each inside `guard()` so callers
only ever see Transient/PermanentEngineError or EngineObjectNotFound. Results are the
engine's JSON (dicts), which the mirror maps to rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import guard


def _where(client) -> str:
    return getattr(client.api, "_dockerforge_where", None) or str(client.api.base_url)


def ping(client) -> None:
    with guard(_where(client)):
        client.api.ping()


def list_containers(client) -> list[dict]:
    """GET /containers/json?all=1: every container, running or not."""
    with guard(_where(client)):
        return client.api.containers(all=True)


def inspect_container(client, container_id: str) -> dict:
    with guard(_where(client)):
        return client.api.inspect_container(container_id)


def top(client, container_id: str, ps_args: str | None = None) -> dict:
    """The container's processes ({"Titles": [...], "Processes": [[...], ...]})."""
    with guard(_where(client)):
        return client.api.top(container_id, ps_args=ps_args)


def list_images(client) -> list[dict]:
    with guard(_where(client)):
        return client.api.images()


def inspect_image(client, image_id: str) -> dict:
    with guard(_where(client)):
        return client.api.inspect_image(image_id)


def list_volumes(client) -> list[dict]:
    with guard(_where(client)):
        return client.api.volumes().get("Volumes") or []


def inspect_volume(client, name: str) -> dict:
    with guard(_where(client)):
        return client.api.inspect_volume(name)


def list_networks(client) -> list[dict]:
    with guard(_where(client)):
        return client.api.networks()


def inspect_network(client, network_id: str) -> dict:
    with guard(_where(client)):
        return client.api.inspect_network(network_id)


def engine_time(client) -> float:
    """The engine's clock (unix seconds), for `since` on the event stream."""
    from datetime import datetime

    with guard(_where(client)):
        text = client.api.info().get("SystemTime", "")
    try:
        # "2026-11-30T12:00:00.123456789Z": Python parses at most microseconds.
        head, _, frac = text.rstrip("Z").partition(".")
        return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00").timestamp()
    except ValueError:
        import time

        return time.time()


class EventStream:
    """The engine's event stream as decoded dicts; `close()` (from any thread) ends it."""

    def __init__(self, client, since: float | None = None):
        self._client = client
        with guard(_where(client)):
            # The SDK reads events with no socket timeout: a dead peer is noticed by the
            # caller's watchdog, which closes the stream.
            self._stream = client.api.events(since=since, decode=True)

    def __iter__(self) -> Iterator[dict]:
        with guard(_where(self._client)):
            yield from self._stream

    def close(self) -> None:
        try:
            self._stream.close()
        except Exception:  # noqa: BLE001 - closing a broken stream may fail; it is closed anyway
            pass
