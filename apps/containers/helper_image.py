"""The helper image short-lived helper containers run (volume browse, backups, file reads).

`ensure_helper_image(client)` makes sure a host has it, in this order (DESIGN.md):
1. it is there already;
2. pull it, when the configured reference names a registry explicitly (an image name
   without a registry would be looked up on Docker Hub, which we never trust by accident);
3. load it from the archive the installation keeps (DOCKERFORGE_HELPER_IMAGE_ARCHIVE);
4. stream it from the server's own engine (`docker save` there, `docker load` here), building
   it there first from the static busybox when missing.
Nothing assumes a test fixture's image exists anywhere.
"""

from __future__ import annotations

import io
import logging
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from apps.engine import resources as engine
from apps.engine.errors import EngineError, PermanentEngineError

from .registries import DOCKER_HUB, registry_of

logger = logging.getLogger(__name__)

HELPER_LABEL = "org.dockerforge.helper"
HELPER_DOCKERFILE = f"""FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
LABEL {HELPER_LABEL}="1"
CMD ["/bin/sh"]
"""
# One provisioning at a time per process: two browses of a fresh host share the transfer.
_lock = threading.Lock()


def helper_image() -> str:
    return settings.HELPER_IMAGE


def ensure_helper_image(client) -> str:
    """The helper image's reference, present on the engine behind `client`."""
    image = helper_image()
    if engine.image_exists(client, image):
        return image
    last: Exception | None = None
    with _lock:
        if engine.image_exists(client, image):
            return image
        for source in (_pull, _load_archive, _stream_from_local_engine):
            try:
                if source(client, image) and engine.image_exists(client, image):
                    logger.info("provisioned helper image %s via %s", image, source.__name__)
                    return image
            except EngineError as exc:
                logger.warning("helper image %s via %s failed: %s", image, source.__name__, exc)
                last = exc
    raise PermanentEngineError(f"The helper image {image} is missing on this host and could not be provisioned: {last or 'no source has it'}")


def _pull(client, image: str) -> bool:
    if registry_of(image) == DOCKER_HUB:
        return False
    for _message in engine.pull(client, image):
        pass
    return True


def _load_archive(client, image: str) -> bool:
    path = settings.HELPER_IMAGE_ARCHIVE
    if not path:
        return False
    if not Path(path).is_file():
        raise PermanentEngineError(f"DOCKERFORGE_HELPER_IMAGE_ARCHIVE={path} is not a file")
    engine.load_image(client, _file_chunks(Path(path)))
    return True


def _file_chunks(path: Path, size: int = 256 * 1024) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(size):
            yield chunk


def _stream_from_local_engine(client, image: str) -> bool:
    from apps.engine.client import connect

    local = connect(settings.LOCAL_ENGINE_URL, timeout=settings.IMAGE_PULL_TIMEOUT)
    try:
        build_local_helper(local, image)
        if engine.image_exists(client, image):  # the host is the server's own engine
            return True
        engine.load_image(client, engine.save_image(local, image))
    finally:
        local.close()
    return True


def build_local_helper(local, image: str) -> None:
    """Build the helper image on the server's own engine from the static busybox if missing."""
    if engine.image_exists(local, image):
        return
    busybox = Path(settings.HELPER_BUSYBOX)
    if not busybox.is_file():
        raise PermanentEngineError(
            f"Cannot build the helper image: no static busybox at {busybox} (install busybox-static or set DOCKERFORGE_HELPER_BUSYBOX)"
        )
    for _message in engine.build(local, helper_context(busybox), tag=image, labels={HELPER_LABEL: "1"}):
        pass


def helper_context(busybox: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        dockerfile = HELPER_DOCKERFILE.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        tar.add(str(busybox), arcname="busybox")
    return buf.getvalue()
