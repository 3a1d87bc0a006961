"""The client's configuration: profiles (server URL, token, default team) and a few settings,
in $XDG_CONFIG_HOME/dockerforge/config.json (0600, since it holds tokens).

Which server and token a command uses, strongest first: DOCKERFORGE_URL / DOCKERFORGE_TOKEN,
the profile named by --profile (or DOCKERFORGE_PROFILE), then the default profile."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PROFILE = "default"
# Settings `dockerforge config set` accepts, with their allowed values (None: any text).
SETTINGS: dict[str, tuple[str, ...] | None] = {
    "default_profile": None,
    "output": ("table", "json"),
    "color": ("auto", "always", "never"),
}
# Keys of a profile `config set` may change (the token only through login).
PROFILE_KEYS = ("url", "team")


class ConfigError(Exception):
    """A bad setting or an unusable config file: a usage problem (exit 2)."""


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dockerforge" / "config.json"


def load() -> dict:
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"profiles": {}, "settings": {}}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object")
    data.setdefault("profiles", {})
    data.setdefault("settings", {})
    return data


def save(data: dict) -> Path:
    """Write atomically with 0600 from the first byte (a token is never world-readable)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def setting(data: dict, key: str, default: str) -> str:
    return str(data.get("settings", {}).get(key) or default)


@dataclass
class Profile:
    name: str
    url: str
    token: str
    team: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.url)


def profile_name(data: dict, requested: str | None) -> str:
    return requested or os.environ.get("DOCKERFORGE_PROFILE") or setting(data, "default_profile", DEFAULT_PROFILE)


def resolve(requested: str | None = None, data: dict | None = None) -> Profile:
    """The profile a command runs with, the environment's overrides applied."""
    data = load() if data is None else data
    name = profile_name(data, requested)
    stored = data["profiles"].get(name) or {}
    if requested and not stored and not os.environ.get("DOCKERFORGE_URL"):
        raise ConfigError(f"No profile named {name!r}: run `dockerforge login URL --profile {name}`")
    return Profile(
        name=name,
        url=(os.environ.get("DOCKERFORGE_URL") or stored.get("url") or "").rstrip("/"),
        token=os.environ.get("DOCKERFORGE_TOKEN") or stored.get("token") or "",
        team=str(stored.get("team") or ""),
    )


def store_profile(name: str, url: str, token: str, username: str = "", make_default: bool = False) -> Path:
    data = load()
    profile = data["profiles"].setdefault(name, {})
    profile.update(url=url.rstrip("/"), token=token, username=username)
    if make_default or len(data["profiles"]) == 1:
        data["settings"]["default_profile"] = name
    return save(data)


def mask(token: str) -> str:
    return f"{token[:4]}…" if token else ""
