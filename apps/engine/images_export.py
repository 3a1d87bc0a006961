"""Image export and inspect for the scanner: `docker save` as a stream of chunks (never the
whole image on disk or in memory) and the inspect documents the config audit reads."""

from __future__ import annotations

from collections.abc import Iterator

from .errors import guard

SAVE_CHUNK = 1024 * 1024


def save_chunks(client, image_ref: str, *, chunk_size: int = SAVE_CHUNK) -> Iterator[bytes]:
    """Yield the `docker save` tar of one image in chunks; engine errors leave as EngineError."""
    where = f"the engine (saving {image_ref})"
    with guard(where):
        iterator = iter(client.api.get_image(image_ref, chunk_size=chunk_size))
    while True:
        with guard(where):
            chunk = next(iterator, None)
        if chunk is None:
            return
        yield chunk


def inspect_image(client, image_ref: str) -> dict:
    with guard(f"the engine (inspecting image {image_ref})"):
        return client.api.inspect_image(image_ref)


def inspect_container(client, container_id: str) -> dict:
    with guard(f"the engine (inspecting container {container_id[:12]})"):
        return client.api.inspect_container(container_id)
