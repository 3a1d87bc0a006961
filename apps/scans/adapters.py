"""Optional adapters: when `trivy` or `grype` is on PATH, run it on an image and import its
JSON as findings of a scan. The JSON readers work without the tools (tests use fixtures)."""

from __future__ import annotations

import json
import shutil
import subprocess

from django.utils import timezone

from .matching import rank
from .models import Finding, Scan
from .osv import SEVERITIES

TOOLS = ("trivy", "grype")


def available() -> list[str]:
    return [t for t in TOOLS if shutil.which(t)]


def _severity(text: str) -> str:
    text = (text or "").lower()
    return text if text in SEVERITIES else ("medium" if text == "moderate" else "unknown")


def read_trivy(doc: dict) -> list[dict]:
    out = []
    for result in doc.get("Results") or []:
        for v in result.get("Vulnerabilities") or []:
            scores = [c.get("V3Score") for c in (v.get("CVSS") or {}).values() if c.get("V3Score") is not None]
            out.append({
                "id": v.get("VulnerabilityID", ""), "package": v.get("PkgName", ""), "version": v.get("InstalledVersion", ""),
                "fixed_version": v.get("FixedVersion", "") or "", "severity": _severity(v.get("Severity")),
                "cvss": max(scores) if scores else None, "summary": v.get("Title", "") or "",
                "links": [v["PrimaryURL"]] if v.get("PrimaryURL") else [], "type": result.get("Type", ""),
                "purl": (v.get("PkgIdentifier") or {}).get("PURL", ""),
            })
    return out


def read_grype(doc: dict) -> list[dict]:
    out = []
    for m in doc.get("matches") or []:
        vuln, artifact = m.get("vulnerability") or {}, m.get("artifact") or {}
        scores = [c.get("metrics", {}).get("baseScore") for c in vuln.get("cvss") or [] if c.get("metrics", {}).get("baseScore") is not None]
        fixes = (vuln.get("fix") or {}).get("versions") or []
        out.append({
            "id": vuln.get("id", ""), "package": artifact.get("name", ""), "version": artifact.get("version", ""),
            "fixed_version": fixes[0] if fixes else "", "severity": _severity(vuln.get("severity")),
            "cvss": max(scores) if scores else None, "summary": vuln.get("description", "") or "",
            "links": list(vuln.get("urls") or [])[:20], "type": artifact.get("type", ""), "purl": artifact.get("purl", ""),
        })
    return out


def import_findings(scan: Scan, items: list[dict], tool: str) -> list[Finding]:
    findings = [
        Finding(team_id=scan.team_id, scan=scan, vulnerability_id=i["id"][:200], summary=i["summary"][:500], package=i["package"][:300],
                package_type=i["type"][:10], ecosystem=tool, version=i["version"][:200], fixed_version=i["fixed_version"][:200],
                severity=i["severity"], cvss_score=i["cvss"], links=i["links"], purl=i["purl"][:500],
                rank=rank(i["severity"], i["cvss"], i["fixed_version"], scan.exposure))
        for i in items if i["id"] and i["package"]
    ]
    Finding.objects.bulk_create(findings)
    counts = {s: 0 for s in SEVERITIES}
    for f in findings:
        counts[f.severity] += 1
    Scan.objects.filter(pk=scan.pk).update(counts=counts, matched_at=timezone.now(), status=Scan.Status.SUCCEEDED,
                                           finished_at=timezone.now(), source=tool)
    return findings


def run_tool(tool: str, image_ref: str, timeout: int = 900) -> dict:
    """Run trivy/grype on a local image and return its JSON (only when on PATH)."""
    exe = shutil.which(tool)
    if not exe:
        raise FileNotFoundError(f"{tool} is not installed")
    args = [exe, "image", "--format", "json", "--quiet", image_ref] if tool == "trivy" else [exe, image_ref, "-o", "json", "-q"]
    done = subprocess.run(args, capture_output=True, timeout=timeout, check=True)
    return json.loads(done.stdout)


READERS = {"trivy": read_trivy, "grype": read_grype}
