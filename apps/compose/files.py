"""Stack files on disk: reading stack folders (local directly, remote through a helper
container), writing a project's compose file and `.env`, masking `.env` values."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from apps.core.fields import MASK

from .validation import parse_env_file

COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAX_FILE_BYTES = 512 * 1024


class RemoteFolderUnavailable(Exception):
    """A remote host's stack folder could not be read (engine unreachable, no such folder)."""


@dataclass
class FolderStack:
    name: str
    working_dir: str
    config_files: list[str]


def is_local(host) -> bool:
    """The server's own engine: its folders are this machine's folders."""
    return host.scheme == "unix"


def normalise_project_name(name: str) -> str:
    """Compose's own rule: lower case, only [a-z0-9_-], starting with a letter or digit."""
    return re.sub(r"[^a-z0-9_-]", "", name.lower()).lstrip("_-")


def find_compose_file(folder: Path) -> Path | None:
    for name in COMPOSE_FILE_NAMES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def list_folder(host, path: str) -> list[FolderStack]:
    """Every sub-folder of `path` that holds a compose file, as a stack."""
    if not is_local(host):
        return read_remote_folder(host, path)
    root = Path(path)
    if not root.is_dir():
        return []
    stacks = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if not entry.is_dir(follow_symlinks=False):
            continue
        found = find_compose_file(Path(entry.path))
        name = normalise_project_name(entry.name)
        if found and name:
            stacks.append(FolderStack(name, entry.path, [str(found)]))
    return stacks


# Lists the stack folders under /f: per sub-folder holding a compose file, "name NUL file NUL"
# (names may hold spaces and newlines, never NUL). Symlinked folders are skipped, as locally.
REMOTE_LIST_SCRIPT = r"""cd /f || exit 3
for d in */ .*/; do
  d="${d%/}"
  case "$d" in .|..|'*'|'.*') continue;; esac
  [ -L "$d" ] && continue
  [ -d "$d" ] || continue
  for n in NAMES; do
    if [ -f "$d/$n" ]; then printf '%s\0%s\0' "$d" "$n"; break; fi
  done
done
""".replace("NAMES", " ".join(COMPOSE_FILE_NAMES))
HELPER_LABELS = {"org.dockerforge.helper": "stack-folder"}


def read_remote_folder(host, path: str) -> list[FolderStack]:
    """Stack folders on a remote host, read through a short-lived helper container with the
    folder bind-mounted read-only (apps.containers.helper_image provisions its image)."""
    from apps.containers.helper_image import ensure_helper_image
    from apps.containers.sync import engine_client
    from apps.engine.errors import EngineError
    from apps.engine.folders import run_in_folder

    if not os.path.isabs(path) or ".." in Path(path).parts:
        raise RemoteFolderUnavailable(f"The stack folder {path!r} on {host.name} is not an absolute path.")
    try:
        with engine_client(host, timeout=settings.INTERACTIVE_ENGINE_TIMEOUT) as client:
            image = ensure_helper_image(client)
            result = run_in_folder(client, image, path, ["sh", "-c", REMOTE_LIST_SCRIPT], labels=HELPER_LABELS,
                                   timeout=settings.INTERACTIVE_ENGINE_TIMEOUT)
    except EngineError as exc:
        raise RemoteFolderUnavailable(f"Cannot read the stack folder {path} on {host.name}: {exc}") from None
    if result.exit_code != 0:
        detail = result.stderr.decode("utf-8", "replace")[:300].strip()
        raise RemoteFolderUnavailable(f"Cannot read the stack folder {path} on {host.name}: {detail or f'exit {result.exit_code}'}")
    return parse_remote_listing(path, result.stdout)


def parse_remote_listing(path: str, output: bytes) -> list[FolderStack]:
    """REMOTE_LIST_SCRIPT's output as stacks, with the host's own paths."""
    fields = output.decode("utf-8", "replace").split("\0")
    stacks = []
    for folder, compose_file in zip(fields[0::2], fields[1::2], strict=False):
        name = normalise_project_name(folder)
        if name and compose_file in COMPOSE_FILE_NAMES:
            working_dir = os.path.join(path, folder)
            stacks.append(FolderStack(name, working_dir, [os.path.join(working_dir, compose_file)]))
    return sorted(stacks, key=lambda s: s.working_dir)


def files_reachable(host, config_files: list[str]) -> bool:
    return bool(config_files) and is_local(host) and all(Path(p).is_file() for p in config_files)


def read_text(path: str | Path) -> str:
    path = Path(path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path} is larger than {MAX_FILE_BYTES // 1024} KiB")
    return path.read_text()


def stack_dir(team, name: str) -> Path:
    return Path(settings.COMPOSE_STACKS_DIR) / team.slug / name


def write_stack_files(folder: Path, compose_file: Path, compose_text: str, env_text: str | None) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o750)
    _atomic_write(compose_file, compose_text, 0o640)
    if env_text is not None:
        _atomic_write(folder / ".env", env_text, 0o600)  # values are secrets


def _atomic_write(path: Path, text: str, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


# --- .env masking -----------------------------------------------------------------------------

_ENV_LINE = re.compile(r"^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=)(.*)$")


def mask_env(text: str) -> str:
    """`KEY=value` lines shown as `KEY=••••••` (comments and blank lines kept)."""
    out = []
    for line in text.splitlines():
        match = _ENV_LINE.match(line)
        out.append(f"{match.group(1)}{MASK}" if match and match.group(2).strip() and not line.lstrip().startswith("#") else line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def unmask_env(edited: str, previous: str) -> str:
    """An edited masked `.env`: lines still reading `KEY=••••••` keep their previous value."""
    old, _ = parse_env_file(previous or "")
    out = []
    for line in edited.splitlines():
        match = _ENV_LINE.match(line)
        if match and match.group(2).strip() == MASK:
            key = match.group(1).rstrip("=").strip().removeprefix("export").strip()
            if key in old:
                line = f"{match.group(1)}{_quote(old[key])}"
        out.append(line)
    return "\n".join(out) + ("\n" if edited.endswith("\n") or not edited else "")


def _quote(value: str) -> str:
    return f'"{value}"' if (" #" in value or value != value.strip()) and '"' not in value else value


def secret_values(env_text: str, working_dir: str = "", data: dict | None = None) -> list[str]:
    """Values to mask in logs, events and API output: the `.env` values and the contents of
    small secret files the compose file names (inside its working dir)."""
    values, _ = parse_env_file(env_text or "")
    out = list(values.values())
    for spec in ((data or {}).get("secrets") or {}).values():
        path = (spec or {}).get("file") if isinstance(spec, dict) else None
        if path and working_dir:
            full = (Path(working_dir) / path).resolve()
            if full.is_relative_to(Path(working_dir).resolve()) and full.is_file() and full.stat().st_size < 4096:
                out.append(full.read_text().strip())
    return out
