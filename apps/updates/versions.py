"""Semver-aware tag comparison (pure, no Django): which newer tags a policy allows.

A tag has a shape: an optional "v", N numeric components and a suffix ("1.2.3-alpine" has
shape ("", 3, "-alpine")). Candidates keep the shape of the running tag, so `-alpine` stays
`-alpine` and "1.2" never jumps to "1.2.3". Pre-release parts ("-rc1", "-beta.2") are split
off the suffix; such tags count only when pre-releases are asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG = re.compile(r"^(?P<v>[vV]?)(?P<nums>\d+(?:\.\d+){0,3})(?P<rest>(?:[-+_.][0-9A-Za-z.+_-]*)?)$")
_PRE = re.compile(r"^(?:alpha|beta|rc|pre|preview|dev|snapshot|a|b|c|m)\.?\d*$", re.IGNORECASE)
LEVELS = ("patch", "minor", "major")


@dataclass(frozen=True)
class TagVersion:
    tag: str
    prefix: str
    numbers: tuple[int, ...]
    prerelease: tuple[str, ...]
    suffix: str

    @property
    def shape(self) -> tuple[str, int, str]:
        return (self.prefix, len(self.numbers), self.suffix)

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def sort_key(self) -> tuple:
        # A release sorts above its own pre-releases; pre-releases compare naturally.
        pre = tuple((0, int(p)) if p.isdigit() else (1, p) for part in self.prerelease for p in re.findall(r"\d+|\D+", part.lower()))
        return (self.numbers, 0 if self.prerelease else 1, pre)


def parse_tag(tag: str) -> TagVersion | None:
    match = _TAG.match(tag or "")
    if not match:
        return None
    rest = match["rest"]
    parts = [p for p in re.split(r"-", rest[1:]) if p] if rest.startswith("-") else []
    pre = tuple(p for p in parts if _PRE.match(p))
    suffix_parts = [p for p in parts if not _PRE.match(p)]
    suffix = ("-" + "-".join(suffix_parts)) if suffix_parts else ("" if rest.startswith("-") or not rest else rest)
    return TagVersion(tag, match["v"].lower(), tuple(int(n) for n in match["nums"].split(".")), pre, suffix)


def level_of(current: TagVersion, candidate: TagVersion) -> str:
    """"patch" / "minor" / "major": the smallest policy that allows moving to candidate."""
    if candidate.numbers[:1] != current.numbers[:1]:
        return "major"
    if candidate.numbers[:2] != current.numbers[:2]:
        return "minor"
    return "patch"


def newest_by_level(current_tag: str, tags: list[str], *, include: str = "", exclude: str = "",
                    allow_prerelease: bool = False) -> dict[str, str]:
    """{level: newest tag newer than current that the level allows}; levels nest (a patch
    release is also a minor and a major candidate)."""
    current = parse_tag(current_tag)
    if current is None:
        return {}
    include_re = re.compile(include) if include else None
    exclude_re = re.compile(exclude) if exclude else None
    best: dict[str, TagVersion] = {}
    for tag in tags:
        cand = parse_tag(tag)
        if cand is None or cand.shape != current.shape or cand.sort_key() <= current.sort_key():
            continue
        if cand.is_prerelease and not (allow_prerelease or current.is_prerelease):
            continue
        if (include_re and not include_re.search(tag)) or (exclude_re and exclude_re.search(tag)):
            continue
        level = level_of(current, cand)
        for allowed in LEVELS[LEVELS.index(level):]:
            if allowed not in best or cand.sort_key() > best[allowed].sort_key():
                best[allowed] = cand
    return {level: v.tag for level, v in best.items()}


def allowed_tag(strategy: str, by_level: dict[str, str]) -> str:
    """The newest tag the strategy allows ("" for digest-only or none newer)."""
    return by_level.get(strategy, "") if strategy in LEVELS else ""
