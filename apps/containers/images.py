"""Images: pull (with per-team registry credentials and layer progress), build, tag, remove,
prune (Operations) and history (read in the request).

request_*(user, ...) authorizes and queues an Operation; perform_*(op, progress) does the
work in the task, refreshes the host's image rows and publishes an event.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from apps.engine import resources as engine
from apps.hosts.models import DockerHost

from .models import Image
from .registries import DOCKER_HUB, auth_config_for, registry_of, validate_registry
from .sync import refresh_kind
from .tasks_resources import announce, authorize, performer, publish_outcome, start_operation
from .tasks_resources import host_client as _client
from .tasks_resources import op_host as _host

# Docker's reference grammar, pragmatically: [registry/]path[:tag][@digest]. The first
# component is a registry only when it has a dot or a port or is "localhost" (Docker's rule).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REGISTRY_RE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$")
_PATH_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?(?:@sha256:[0-9a-f]{{64}})?$")
_REPOSITORY_PATH_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")


def _matches(value: str, path_re: re.Pattern) -> bool:
    first, sep, rest = value.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return bool(_REGISTRY_RE.match(first)) and bool(path_re.match(rest))
    return bool(path_re.match(value))


def is_reference(value: str) -> bool:
    return _matches(value, _PATH_RE)


def is_repository(value: str) -> bool:
    return _matches(value, _REPOSITORY_PATH_RE)


TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# How often a pull or build writes progress to the database (and the browser).
PROGRESS_INTERVAL = 0.25


def validate_reference(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError("Enter an image reference, e.g. registry.example.com/team/app:1.0.")
    if len(value) > 500 or not is_reference(value):
        raise ValidationError("Not a valid image reference: [registry/]name[:tag][@sha256:digest], lower-case name.")
    registry = registry_of(value)
    if registry != DOCKER_HUB:
        validate_registry(registry)  # the engine would connect there on our behalf
    return value




# --- pull -----------------------------------------------------------------------------------

class PullProgress:
    """Turns the engine's pull messages into log lines and one overall fraction.

    Each layer counts equally: downloading fills its first 70 %, extracting the rest. Only a
    change of a layer's status is logged, not every byte counter tick.
    """

    DOWNLOAD_SHARE = 0.7
    DONE = {"Pull complete", "Already exists"}

    def __init__(self):
        self.layers: dict[str, float] = {}
        self.status: dict[str, str] = {}

    def feed(self, message: dict) -> str | None:
        """Account for one message; return a line worth logging, or None."""
        status = message.get("status") or ""
        layer = message.get("id") or ""
        if not layer or not self._is_layer_status(status):
            return f"{layer}: {status}" if layer else status or None
        self.layers[layer] = max(self.layers.get(layer, 0.0), self._layer_fraction(status, message.get("progressDetail") or {}))
        if self.status.get(layer) == status:
            return None
        self.status[layer] = status
        return f"{layer}: {status}"

    def _is_layer_status(self, status: str) -> bool:
        return status in self.DONE or status in ("Pulling fs layer", "Waiting", "Downloading", "Verifying Checksum", "Download complete", "Extracting")

    def _layer_fraction(self, status: str, detail: dict) -> float:
        current, total = detail.get("current") or 0, detail.get("total") or 0
        ratio = min(1.0, current / total) if total else 0.0
        if status in self.DONE:
            return 1.0
        if status in ("Verifying Checksum", "Download complete"):
            return self.DOWNLOAD_SHARE
        if status == "Downloading":
            return self.DOWNLOAD_SHARE * ratio
        if status == "Extracting":
            return self.DOWNLOAD_SHARE + (1 - self.DOWNLOAD_SHARE) * ratio
        return 0.0

    @property
    def fraction(self) -> float:
        return sum(self.layers.values()) / len(self.layers) if self.layers else 0.0


class Throttle:
    """Report progress at most every `interval` seconds (and always the last value)."""

    def __init__(self, progress, interval: float = PROGRESS_INTERVAL):
        self.progress, self.interval, self.last_at, self.last = progress, interval, 0.0, -1.0

    def __call__(self, fraction: float, force: bool = False) -> None:
        now = time.monotonic()
        if fraction != self.last and (force or now - self.last_at >= self.interval):
            self.progress.progress(fraction)
            self.progress.check_cancel()
            self.last_at, self.last = now, fraction


def request_pull(user, host: DockerHost, reference: str):
    authorize(user, host.team_id)  # 403 before any validation
    try:
        reference = validate_reference(reference)
    except ValidationError as exc:
        raise ValidationError({"reference": exc.messages}) from None
    return start_operation(user, host, "image.pull", target_kind="image", target_name=reference, params={"reference": reference})


@performer("image.pull")
def perform_pull(op, progress) -> dict:
    host = _host(op)
    reference = op.params["reference"]
    try:
        auth = auth_config_for(host.team_id, reference)
    except ValidationError as exc:
        raise RuntimeError(f"The credential for {registry_of(reference)} cannot be used: {' '.join(exc.messages)}") from None
    progress.log(f"Pulling {reference} on {host.name}" + (f" as {auth['username']}" if auth else ""))
    with _client(host, timeout=settings.IMAGE_PULL_TIMEOUT) as client:
        tracker, report = PullProgress(), Throttle(progress)
        for message in engine.pull(client, reference, auth):
            line = tracker.feed(message)
            if line:
                progress.log(line)
            report(tracker.fraction)
        report(1.0, force=True)
        image_id = engine.inspect_image(client, reference)["Id"]
        image = refresh_kind(host, "images", client=client, key=image_id)
    announce(host, "image", image)  # the engine's `pull` event is the stored one
    return {"image_id": image_id, "image": image.pk if image else None, "reference": reference}


# --- build ----------------------------------------------------------------------------------

def build_context_dir() -> Path:
    path = Path(settings.BUILD_CONTEXT_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def dockerfile_context(text: str) -> bytes:
    """A build context holding only a Dockerfile."""
    import io
    import tarfile

    data = text.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def request_build(user, host: DockerHost, *, tag: str = "", buildargs: dict | None = None, dockerfile: str = "",
                  dockerfile_text: str = "", context_file: str = ""):
    """Build from Dockerfile text or from a context tarball already saved in build_context_dir()."""
    authorize(user, host.team_id)  # 403 before any validation
    errors = {}
    if tag and ("@" in tag or not is_reference(tag)):
        errors["tag"] = "Not a valid image name: [registry/]name[:tag], lower-case name."
    if bool(dockerfile_text) == bool(context_file):
        errors["context"] = "Give either a Dockerfile or a build context archive."
    bad_args = [k for k in (buildargs or {}) if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k)]
    if bad_args:
        errors["buildargs"] = f"Not valid build argument names: {', '.join(bad_args)}"
    if errors:
        raise ValidationError(errors)
    params = {"tag": tag, "buildargs": buildargs or {}, "dockerfile": dockerfile, "dockerfile_text": dockerfile_text, "context_file": context_file}
    return start_operation(user, host, "image.build", target_kind="image", target_name=tag or "(untagged build)", params=params)


class BuildProgress:
    """`Step N/M` lines give the fraction; every output line is logged."""

    STEP = re.compile(r"^Step (\d+)/(\d+)")

    def __init__(self):
        self.fraction, self.image_id = 0.0, ""

    def feed(self, message: dict) -> list[str]:
        if (message.get("aux") or {}).get("ID"):
            self.image_id = message["aux"]["ID"]
        text = message.get("stream") or message.get("status") or ""
        lines = [line for line in text.splitlines() if line.strip()]
        for line in lines:
            match = self.STEP.match(line)
            if match:
                step, total = int(match[1]), int(match[2])
                self.fraction = max(self.fraction, (step - 1) / total) if total else self.fraction
        return lines


def _context_bytes(op) -> tuple[bytes, bool]:
    if op.params.get("dockerfile_text"):
        return dockerfile_context(op.params["dockerfile_text"]), False
    path = build_context_dir() / Path(op.params["context_file"]).name  # a bare name, never a path
    data = path.read_bytes()
    return data, data[:2] == b"\x1f\x8b"


@performer("image.build")
def perform_build(op, progress) -> dict:
    host = _host(op)
    tag = op.params.get("tag") or ""
    try:
        context, gzipped = _context_bytes(op)
        progress.log(f"Building {tag or 'an untagged image'} on {host.name} ({len(context)} bytes of context)")
        with _client(host, timeout=settings.IMAGE_PULL_TIMEOUT) as client:
            tracker, report = BuildProgress(), Throttle(progress)
            for message in engine.build(client, context, tag=tag, dockerfile=op.params.get("dockerfile") or "",
                                        buildargs=op.params.get("buildargs") or {}, gzip=gzipped):
                for line in tracker.feed(message):
                    progress.log(line)
                report(tracker.fraction)
            image_id = tracker.image_id or (engine.inspect_image(client, tag)["Id"] if tag else "")
            image = refresh_kind(host, "images", client=client, key=image_id)
    finally:
        if op.params.get("context_file"):
            (build_context_dir() / Path(op.params["context_file"]).name).unlink(missing_ok=True)
    publish_outcome("image.built", host, image, tag or image_id[:19], f"Built {tag or image_id[:19]} on {host.name}", {"tag": tag})
    return {"image_id": image_id, "image": image.pk if image else None, "tag": tag}


# --- tag, remove, prune, history --------------------------------------------------------------

def request_tag(user, image: Image, repository: str, tag: str = ""):
    authorize(user, image.team_id)  # 403 before any validation
    repository, tag = (repository or "").strip(), (tag or "").strip()
    errors = {}
    if not is_repository(repository) or len(repository) > 255:
        errors["repository"] = "Not a valid repository name: [registry/]name, lower case."
    if tag and not TAG_RE.match(tag):
        errors["tag"] = "Not a valid tag: letters, digits, _ . and -, at most 128, not starting with . or -."
    if errors:
        raise ValidationError(errors)
    return start_operation(user, image.host, "image.tag", target_kind="image", target_id=image.pk, target_name=str(image),
                           params={"image": image.docker_id, "repository": repository, "tag": tag or "latest"})


@performer("image.tag")
def perform_tag(op, progress) -> dict:
    host = _host(op)
    p = op.params
    with _client(host) as client:
        engine.tag_image(client, p["image"], p["repository"], p["tag"])
        image = refresh_kind(host, "images", client=client, key=p["image"])
    name = f"{p['repository']}:{p['tag']}"
    progress.log(f"Tagged {p['image'][:19]} as {name}")
    announce(host, "image", image)
    return {"tag": name}


def request_remove(user, image: Image, force: bool = False):
    return start_operation(user, image.host, "image.remove", target_kind="image", target_id=image.pk, target_name=str(image),
                           params={"image": image.docker_id, "force": bool(force), "name": str(image)})


@performer("image.remove")
def perform_remove(op, progress) -> dict:
    host = _host(op)
    p = op.params
    with _client(host) as client:
        removed = engine.remove_image(client, p["image"], force=p["force"])
        refresh_kind(host, "images", client=client)
    for item in removed:
        progress.log(" ".join(f"{k}: {v}" for k, v in item.items()))
    announce(host, "image", None)
    return {"removed": removed}


def request_prune(user, host: DockerHost, all_unused: bool = False):
    return start_operation(user, host, "image.prune", target_kind="host", target_id=host.pk, target_name=host.name,
                           params={"all": bool(all_unused)})


@performer("image.prune")
def perform_prune(op, progress) -> dict:
    host = _host(op)
    with _client(host) as client:
        result = engine.prune_images(client, dangling_only=not op.params["all"])
        refresh_kind(host, "images", client=client)
    deleted = result.get("ImagesDeleted") or []
    reclaimed = int(result.get("SpaceReclaimed") or 0)
    progress.log(f"Removed {len(deleted)} image entries, reclaimed {reclaimed} bytes")
    publish_outcome("image.pruned", host, None, "", f"Pruned images on {host.name}: {reclaimed} bytes reclaimed",
                   data={"deleted": len(deleted), "reclaimed": reclaimed})
    return {"deleted": deleted, "reclaimed": reclaimed}


def image_history(image: Image) -> list[dict]:
    """The image's layers, newest first, read now with the interactive timeout."""
    with _client(image.host, timeout=settings.INTERACTIVE_ENGINE_TIMEOUT) as client:
        layers = engine.image_history(client, image.docker_id)
    return [
        {
            "id": layer.get("Id", ""),
            "created": layer.get("Created"),
            "created_by": layer.get("CreatedBy", ""),
            "size": int(layer.get("Size") or 0),
            "tags": layer.get("Tags") or [],
            "comment": layer.get("Comment", ""),
        }
        for layer in layers
    ]
