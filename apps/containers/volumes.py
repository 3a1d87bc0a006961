"""Volumes: create, remove, prune (Operations) and browse files through a short-lived helper
container that mounts the volume read-only (read in the request, short timeout).

Why a helper container rather than the engine's data root: the portal may not run on the
host, and a helper resolves symlinks inside its own throwaway root, never the host's.
File names are untrusted text: the listing returns them as data; templates escape them.
"""

from __future__ import annotations

import posixpath
import re
import stat as stat_module
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError

from apps.core.roles import Action
from apps.engine import resources as engine
from apps.engine.errors import PermanentEngineError
from apps.hosts.models import DockerHost

from .helper_image import ensure_helper_image
from .models import Volume
from .sync import refresh_kind
from .tasks_resources import announce, authorize, host_client, performer, publish_outcome, start_operation
from .tasks_resources import op_host as _host

VOLUME_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
HELPER_LABELS = {"org.dockerforge.helper": "volume-browse"}

# Lists one directory: per entry a line "rawmode size mtime perms" then the name and a NUL
# (names may hold spaces and newlines; they never hold NUL). "+" at the end: truncated.
LIST_SCRIPT = r"""cd "/v/$1" || exit 3
n=0
for f in .* *; do
  case "$f" in .|..) continue;; esac
  [ -e "$f" ] || [ -L "$f" ] || continue
  n=$((n+1))
  [ "$n" -gt "$2" ] && { printf '+'; break; }
  stat -c '%f %s %Y %A' -- "$f" || continue
  printf '%s\0' "$f"
done
"""


def validate_volume_name(value: str) -> str:
    value = (value or "").strip()
    if value and not VOLUME_NAME_RE.match(value):
        raise ValidationError("Volume names start with a letter or digit and hold only letters, digits, _ . and -.")
    return value



# --- create, remove, prune -------------------------------------------------------------------

def request_create(user, host: DockerHost, *, name: str = "", driver: str = "local", labels: dict | None = None,
                   driver_opts: dict | None = None):
    authorize(user, host.team_id)  # 403 before any validation
    try:
        name = validate_volume_name(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    params = {"name": name, "driver": driver or "local", "labels": labels or {}, "driver_opts": driver_opts or {}}
    return start_operation(user, host, "volume.create", target_kind="volume", target_name=name or "(generated name)", params=params)


@performer("volume.create")
def perform_create(op, progress) -> dict:
    host, p = _host(op), op.params
    with host_client(host) as client:
        created = engine.create_volume(client, p["name"], p["driver"], p["driver_opts"], p["labels"])
        volume = refresh_kind(host, "volumes", client=client, key=created["Name"])
    name = created["Name"]
    progress.log(f"Created volume {name} ({created.get('Driver', '')})")
    announce(host, "volume", volume)  # the engine's `create` event is the stored one
    return {"name": name, "volume": volume.pk if volume else None}


def request_remove(user, volume: Volume, force: bool = False):
    return start_operation(user, volume.host, "volume.remove", target_kind="volume", target_id=volume.pk, target_name=volume.name,
                           params={"name": volume.name, "force": bool(force)})


@performer("volume.remove")
def perform_remove(op, progress) -> dict:
    host, p = _host(op), op.params
    with host_client(host) as client:
        engine.remove_volume(client, p["name"], force=p["force"])
        refresh_kind(host, "volumes", client=client)
    progress.log(f"Removed volume {p['name']}")
    announce(host, "volume", None)
    return {"name": p["name"]}


def request_prune(user, host: DockerHost):
    return start_operation(user, host, "volume.prune", target_kind="host", target_id=host.pk, target_name=host.name)


@performer("volume.prune")
def perform_prune(op, progress) -> dict:
    host = _host(op)
    with host_client(host) as client:
        result = engine.prune_volumes(client)
        refresh_kind(host, "volumes", client=client)
    deleted = result.get("VolumesDeleted") or []
    reclaimed = int(result.get("SpaceReclaimed") or 0)
    progress.log(f"Removed {len(deleted)} unused volumes, reclaimed {reclaimed} bytes")
    publish_outcome("volume.pruned", host, None, "", f"Pruned {len(deleted)} volumes on {host.name}",
                    data={"deleted": deleted, "reclaimed": reclaimed})
    return {"deleted": deleted, "reclaimed": reclaimed}


# --- browse ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    name: str
    type: str  # "dir", "file", "link", "other"
    size: int
    mtime: datetime
    mode: str  # "drwxr-xr-x"

    @property
    def is_dir(self) -> bool:
        return self.type == "dir"


@dataclass(frozen=True)
class Listing:
    path: str  # "" for the volume's root, else "a/b"
    entries: list[Entry]
    truncated: bool

    @property
    def parent(self) -> str | None:
        return None if not self.path else posixpath.dirname(self.path)

    def child(self, entry: Entry) -> str:
        return posixpath.join(self.path, entry.name) if self.path else entry.name


def clean_path(path: str) -> str:
    """A path relative to the volume's root, with no way above it ("" is the root)."""
    path = path or ""
    if "\x00" in path or len(path) > 4096:
        raise ValidationError("Not a valid path.")
    return posixpath.normpath("/" + path).lstrip("/")


def _entry_type(raw_mode: int) -> str:
    if stat_module.S_ISDIR(raw_mode):
        return "dir"
    if stat_module.S_ISREG(raw_mode):
        return "file"
    if stat_module.S_ISLNK(raw_mode):
        return "link"
    return "other"


def parse_listing(output: bytes, path: str = "") -> Listing:
    """Parse LIST_SCRIPT's output into entries (directories first, then by name)."""
    entries, rest = [], output
    while rest and rest != b"+":
        header, sep, rest = rest.partition(b"\n")
        name, nul, rest = rest.partition(b"\x00")
        if not sep or not nul:
            break  # a cut-off record
        raw, size, mtime, mode = header.decode("ascii", "replace").split(" ", 3)
        entries.append(Entry(
            name=name.decode("utf-8", "replace"),
            type=_entry_type(int(raw, 16)),
            size=int(size),
            mtime=datetime.fromtimestamp(int(mtime), tz=UTC),
            mode=mode.strip(),
        ))
    entries.sort(key=lambda e: (not e.is_dir, e.name))
    return Listing(path, entries, truncated=rest.endswith(b"+"))


def list_directory(user, volume: Volume, path: str = "") -> Listing:
    """List one directory of the volume (VIEW: reading, like logs)."""
    authorize(user, volume.team_id, Action.VIEW)
    path = clean_path(path)
    with host_client(volume.host, timeout=settings.INTERACTIVE_ENGINE_TIMEOUT) as client:
        image = ensure_helper_image(client)
        result = engine.run_helper(
            client, image, volume.name, ["sh", "-c", LIST_SCRIPT, "sh", path, str(settings.VOLUME_LIST_MAX_ENTRIES)],
            labels=HELPER_LABELS, timeout=settings.INTERACTIVE_ENGINE_TIMEOUT,
        )
    if result.exit_code == 3:
        raise PermanentEngineError(f"No such directory in volume {volume.name}: /{path}")
    if result.exit_code != 0:
        raise PermanentEngineError(f"Listing /{path} failed: {result.stderr.decode('utf-8', 'replace')[:500]}")
    return parse_listing(result.stdout, path)


def read_file(user, volume: Volume, path: str) -> tuple[str, bytes]:
    """(file name, content) of one regular file, capped at VOLUME_DOWNLOAD_MAX_BYTES."""
    authorize(user, volume.team_id, Action.VIEW)
    path = clean_path(path)
    if not path:
        raise ValidationError("Choose a file.")
    with host_client(volume.host, timeout=settings.INTERACTIVE_ENGINE_TIMEOUT) as client:
        image = ensure_helper_image(client)
        _stat, content = engine.read_volume_file(
            client, image, volume.name, path, labels=HELPER_LABELS,
            max_bytes=settings.VOLUME_DOWNLOAD_MAX_BYTES, timeout=settings.INTERACTIVE_ENGINE_TIMEOUT,
        )
    return posixpath.basename(path), content
