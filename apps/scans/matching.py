"""Match an SBOM against a team's imported databases: candidates by (ecosystem, name) in one
indexed query per chunk, then OSV range evaluation per candidate."""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import AffectedPackage, VulnerabilityDatabase
from .osv import SEVERITY_RANK, affected_fix, normalize_name
from .sbom import SBOM, Package, ecosystem_of, purl

CHUNK = 500


@dataclass
class Match:
    package: Package
    ecosystem: str
    vulnerability_id: str
    aliases: list
    summary: str
    severity: str
    cvss_score: float | None
    links: list
    fixed_version: str
    purl: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.vulnerability_id, self.package.name)


def _lookup_keys(package: Package, ecosystem: str) -> list[tuple[str, str, str]]:
    """(ecosystem as stored, name, version to compare) candidates for one package."""
    if package.type == "deb":
        name, version = package.source_name or package.name, package.source_version or package.version
        keys = [(ecosystem, name, version)]
        if name != package.name:
            keys.append((ecosystem, package.name, package.version))
        return keys
    if package.type == "apk":
        return [(ecosystem, package.source_name or package.name, package.version), (ecosystem, package.name, package.version)]
    return [(ecosystem, normalize_name(ecosystem, package.name), package.version)]


def match_sbom(sbom: SBOM, databases: list[VulnerabilityDatabase]) -> list[Match]:
    wanted: dict[tuple[str, str], list[tuple[Package, str, str]]] = {}
    for package in sbom.packages:
        ecosystem = ecosystem_of(package, sbom.os)
        for eco, name, version in _lookup_keys(package, ecosystem):
            entries = wanted.setdefault((eco, name), [])
            if all(p is not package for p, _, _ in entries):
                entries.append((package, version, ecosystem))
    if not wanted or not databases:
        return []
    matches: dict[tuple, Match] = {}
    keys = list(wanted)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        rows = (
            AffectedPackage.objects.filter(database__in=databases, name__in={n for _, n in chunk})
            .select_related("vulnerability")
            .only("ecosystem", "name", "ranges", "versions", "vulnerability__osv_id", "vulnerability__aliases",
                  "vulnerability__summary", "vulnerability__severity", "vulnerability__cvss_score", "vulnerability__links")
        )
        for row in rows.iterator(chunk_size=2000):
            # A bare key ("Alpine": the OS release is unknown) matches every release's records.
            candidates = wanted.get((row.ecosystem, row.name), []) + wanted.get((row.ecosystem.split(":")[0], row.name), []) \
                if ":" in row.ecosystem else wanted.get((row.ecosystem, row.name), [])
            for package, version, ecosystem in candidates:
                hit, fixed = affected_fix(version, row.ecosystem, row.ranges, row.versions)
                if not hit:
                    continue
                v = row.vulnerability
                match = Match(package, ecosystem, v.osv_id, v.aliases, v.summary, v.severity, v.cvss_score, v.links, fixed)
                previous = matches.get((v.osv_id, package.name, package.version))
                if previous is None or (fixed and not previous.fixed_version):
                    matches[(v.osv_id, package.name, package.version)] = match
    out = list(matches.values())
    for m in out:
        m.purl = purl(m.package, sbom.os)
    return sorted(out, key=lambda m: (-SEVERITY_RANK.get(m.severity, 0), m.vulnerability_id, m.package.name))


SEVERITY_WEIGHT = {"unknown": 1.0, "low": 2.0, "medium": 5.0, "high": 7.5, "critical": 9.5}


def rank(severity: str, cvss: float | None, fixed: str, exposure: list[str]) -> float:
    """Higher first: CVSS (or a severity weight), a little for an available fix, and a boost
    per risky exposure of the containers running the image (privileged, host network, ports)."""
    base = cvss if cvss is not None else SEVERITY_WEIGHT.get(severity, 1.0)
    return round(base * (1 + 0.5 * len(exposure)) + (0.5 if fixed else 0.0), 3)
