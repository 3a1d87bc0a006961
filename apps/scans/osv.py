"""OSV records: reading them (files, a directory, a zip), severity, and range evaluation.

Pure functions, no Django: the import service stores what `normalize()` returns, and the
matcher calls `affected_fix()` for each candidate package.
"""

from __future__ import annotations

import json
import math
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from .versions import InvalidVersion, comparator_for

SEVERITIES = ("unknown", "low", "medium", "high", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
SUPPORTED_ECOSYSTEMS = re.compile(r"^(Debian(:\d+)?|Ubuntu(:[\w.:-]+)?|Alpine(:v\d+\.\d+)?|PyPI|npm)$")


class OSVError(ValueError):
    pass


# --- reading ---------------------------------------------------------------------------------

def _records_in(data: bytes, name: str) -> Iterator[dict]:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise OSVError(f"{name}: not JSON ({exc})") from None
    docs = doc if isinstance(doc, list) else [doc]
    for item in docs:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise OSVError(f"{name}: not an OSV record (no id)")
        yield item


def read_path(path: str) -> Iterator[dict]:
    """OSV records from a .json file, a .zip of them, or a directory (recursively)."""
    if os.path.isdir(path):
        for root, _dirs, files in os.walk(path):
            for name in sorted(files):
                if name.endswith((".json", ".zip")):
                    yield from read_path(os.path.join(root, name))
        return
    if zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            yield from read_zip(fh, os.path.basename(path))
        return
    with open(path, "rb") as fh:
        yield from _records_in(fh.read(), os.path.basename(path))


def read_zip(fileobj, name: str = "upload.zip") -> Iterator[dict]:
    try:
        archive = zipfile.ZipFile(fileobj)
    except zipfile.BadZipFile:
        raise OSVError(f"{name}: not a zip file") from None
    with archive:
        for info in archive.infolist():
            if info.filename.endswith(".json") and not info.is_dir():
                yield from _records_in(archive.read(info), f"{name}:{info.filename}")


def read_upload(data: bytes, name: str) -> Iterator[dict]:
    import io

    if data[:2] == b"PK":
        yield from read_zip(io.BytesIO(data), name)
    else:
        yield from _records_in(data, name)


# --- severity --------------------------------------------------------------------------------

_CVSS3 = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0},
    "I": {"H": 0.56, "L": 0.22, "N": 0},
    "A": {"H": 0.56, "L": 0.22, "N": 0},
}


def _roundup(x: float) -> float:
    n = round(x * 100000)
    return n / 100000.0 if n % 10000 == 0 else (math.floor(n / 10000) + 1) / 10.0


def cvss3_base_score(vector: str) -> float | None:
    """The CVSS v3.x base score of a vector string (FIRST's formula), or None if malformed."""
    if not vector.startswith("CVSS:3"):
        return None
    metrics = dict(part.split(":", 1) for part in vector.split("/")[1:] if ":" in part)
    try:
        scope_changed = metrics["S"] == "C"
        pr = {"N": 0.85, "L": 0.68 if scope_changed else 0.62, "H": 0.5 if scope_changed else 0.27}[metrics["PR"]]
        iss = 1 - (1 - _CVSS3["C"][metrics["C"]]) * (1 - _CVSS3["I"][metrics["I"]]) * (1 - _CVSS3["A"][metrics["A"]])
        exploitability = 8.22 * _CVSS3["AV"][metrics["AV"]] * _CVSS3["AC"][metrics["AC"]] * pr * _CVSS3["UI"][metrics["UI"]]
    except KeyError:
        return None
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if scope_changed else 6.42 * iss
    if impact <= 0:
        return 0.0
    total = 1.08 * (impact + exploitability) if scope_changed else impact + exploitability
    return _roundup(min(total, 10))


def severity_from_score(score: float | None) -> str:
    if score is None:
        return "unknown"
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else "unknown"


def severity_of(record: dict) -> tuple[str, float | None, str]:
    """(severity, CVSS score, vector) from `severity` (CVSS v3) or a database's label."""
    for entry in record.get("severity") or []:
        score = entry.get("score", "")
        if entry.get("type", "").startswith("CVSS_V3"):
            value = cvss3_base_score(score)
            if value is not None:
                return severity_from_score(value), value, score
    labels = [record.get("database_specific") or {}]
    labels += [a.get("ecosystem_specific") or {} for a in record.get("affected") or []]
    labels += [a.get("database_specific") or {} for a in record.get("affected") or []]
    for label in labels:
        text = str(label.get("severity", "")).lower()
        if text == "moderate":
            text = "medium"
        if text in SEVERITY_RANK:
            return text, None, ""
    return "unknown", None, ""


# --- normalisation ---------------------------------------------------------------------------

def normalize_name(ecosystem: str, name: str) -> str:
    if ecosystem == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name


@dataclass
class Affected:
    ecosystem: str
    name: str
    ranges: list = field(default_factory=list)
    versions: list = field(default_factory=list)


def affected_entries(record: dict) -> list[Affected]:
    out = []
    for entry in record.get("affected") or []:
        package = entry.get("package") or {}
        ecosystem, name = package.get("ecosystem", ""), package.get("name", "")
        if not name or not SUPPORTED_ECOSYSTEMS.match(ecosystem):
            continue
        ranges = [r for r in entry.get("ranges") or [] if r.get("type") in ("ECOSYSTEM", "SEMVER")]
        out.append(Affected(ecosystem, normalize_name(ecosystem, name), ranges, list(entry.get("versions") or [])))
    return out


def links_of(record: dict) -> list[str]:
    return [r["url"] for r in record.get("references") or [] if isinstance(r, dict) and r.get("url")][:20]


# --- range evaluation ------------------------------------------------------------------------

def _event_version(event: dict) -> tuple[str, str]:
    for kind in ("introduced", "fixed", "last_affected", "limit"):
        if kind in event:
            return kind, str(event[kind])
    return "", ""


def _range_affects(version: str, events: list[dict], cmp) -> tuple[bool, str]:
    """OSV's algorithm: walk the sorted events; returns (affected, the fix that ends it)."""
    parsed = [_event_version(e) for e in events]
    parsed = [(k, v) for k, v in parsed if k]

    def key(kv):
        kind, value = kv
        return (0, "") if kind == "introduced" and value == "0" else (1, value)

    zero = [kv for kv in parsed if key(kv)[0] == 0]
    rest = sorted((kv for kv in parsed if key(kv)[0] == 1), key=lambda kv: _CmpKey(kv[1], cmp))
    affected = False
    for kind, value in zero + rest:
        if kind == "introduced" and (value == "0" or cmp(version, value) >= 0):
            affected = True
        elif kind == "fixed" and cmp(version, value) >= 0:
            affected = False
        elif kind == "last_affected" and cmp(version, value) > 0:
            affected = False
        elif kind == "limit" and cmp(version, value) >= 0:
            affected = False
    if not affected:
        return False, ""
    fixes = [v for k, v in rest if k == "fixed" and cmp(v, version) > 0]
    return True, fixes[0] if fixes else ""


class _CmpKey:
    __slots__ = ("value", "cmp")

    def __init__(self, value, cmp):
        self.value, self.cmp = value, cmp

    def __lt__(self, other):
        return self.cmp(self.value, other.value) < 0


def affected_fix(version: str, ecosystem: str, ranges: list, versions: list) -> tuple[bool, str]:
    """Is `version` affected by this OSV `affected` entry? Returns (affected, fixed version).
    A version the ecosystem cannot order matches only an exact `versions` entry."""
    if version in versions:
        fixed = ""
        try:
            cmp = comparator_for(ecosystem)
            for r in ranges:
                hit, fixed = _range_affects(version, r.get("events") or [], cmp)
                if hit:
                    break
        except InvalidVersion:
            pass
        return True, fixed
    try:
        cmp = comparator_for(ecosystem)
        for r in ranges:
            hit, fixed = _range_affects(version, r.get("events") or [], cmp)
            if hit:
                return True, fixed
    except InvalidVersion:
        return False, ""
    return False, ""
