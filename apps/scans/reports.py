"""Scan reports: JSON, SARIF 2.1.0, CycloneDX 1.5 JSON (cyclonedx-python-lib) and SPDX 2.3 JSON.
Every report carries the databases' age, so staleness shows wherever the report goes."""

from __future__ import annotations

import json
import uuid

from django.conf import settings

from .models import Finding, Scan
from .sbom import SBOM, ecosystem_of, purl

TOOL = "DockerForge"


def _findings(scan: Scan):
    return list(Finding.objects.filter(scan=scan).select_related("suppression"))


def _finding_dict(f: Finding) -> dict:
    return {
        "id": f.vulnerability_id, "aliases": f.aliases, "summary": f.summary, "package": f.package,
        "type": f.package_type, "ecosystem": f.ecosystem, "version": f.version, "fixed_version": f.fixed_version,
        "severity": f.severity, "cvss": f.cvss_score, "links": f.links, "purl": f.purl, "path": f.path, "layer": f.layer,
        "rank": f.rank, "suppressed": f.is_suppressed,
        "suppression": {"reason": f.suppression.reason, "expires_at": f.suppression.expires_at.isoformat() if f.suppression.expires_at else None}
        if f.is_suppressed else None,
    }


def to_json(scan: Scan) -> dict:
    return {
        "scan": scan.pk, "image": scan.image_ref, "image_id": scan.image_digest, "status": scan.status,
        "created_at": scan.created_at.isoformat(), "matched_at": scan.matched_at.isoformat() if scan.matched_at else None,
        "os": scan.os, "databases": scan.databases, "stale": bool(scan.stale_databases), "exposure": scan.exposure,
        "counts": scan.counts, "packages": scan.package_count,
        "findings": [_finding_dict(f) for f in _findings(scan)],
        "image_checks": scan.image_checks, "policy_results": scan.policy_results,
    }


SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "unknown": "note"}


def to_sarif(scan: Scan) -> dict:
    findings = [f for f in _findings(scan) if not f.is_suppressed]
    rules, seen = [], set()
    for f in findings:
        if f.vulnerability_id not in seen:
            seen.add(f.vulnerability_id)
            rules.append({
                "id": f.vulnerability_id, "shortDescription": {"text": f.summary or f.vulnerability_id},
                "helpUri": f.links[0] if f.links else None,
                "properties": {"security-severity": str(f.cvss_score if f.cvss_score is not None else {"critical": 9.5, "high": 7.5, "medium": 5.0}.get(f.severity, 2.0)),
                               "tags": ["security", "vulnerability"]},
            })
    results = [{
        "ruleId": f.vulnerability_id, "level": SARIF_LEVEL.get(f.severity, "note"),
        "message": {"text": f"{f.package} {f.version} is affected by {f.vulnerability_id}"
                    + (f"; fixed in {f.fixed_version}" if f.fixed_version else "; no fix available")},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.path or scan.image_ref}}}],
        "properties": {"purl": f.purl, "severity": f.severity, "image": scan.image_ref},
    } for f in findings]
    for rule in rules:
        if rule["helpUri"] is None:
            del rule["helpUri"]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": TOOL, "informationUri": settings.SITE_URL, "rules": rules}},
                  "results": results, "properties": {"databases": scan.databases, "stale": bool(scan.stale_databases)}}],
    }


def to_cyclonedx(scan: Scan, *, with_vulnerabilities: bool = True) -> str:
    """CycloneDX 1.5 JSON: components from the SBOM; vulnerabilities from the findings."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.vulnerability import (
        BomTarget,
        Vulnerability,
        VulnerabilityRating,
        VulnerabilityScoreSource,
        VulnerabilitySeverity,
    )
    from cyclonedx.output.json import JsonV1Dot5
    from packageurl import PackageURL

    sbom = SBOM.from_dict(scan.sbom)
    bom = Bom()
    root = Component(name=scan.image_ref, type=ComponentType.CONTAINER, bom_ref=f"image:{scan.image_ref}")
    bom.metadata.component = root
    refs = {}
    for p in sbom.packages:
        ref = purl(p, sbom.os)
        if ref in refs:
            continue
        component = Component(name=p.name, version=p.version, type=ComponentType.LIBRARY if p.type in ("pypi", "npm") else ComponentType.APPLICATION,
                              purl=PackageURL.from_string(ref), bom_ref=ref)
        refs[ref] = component
        bom.components.add(component)
    bom.register_dependency(root, list(refs.values()))  # the image contains every package
    if with_vulnerabilities:
        for f in _findings(scan):
            if f.is_suppressed or f.purl not in refs:
                continue
            rating = VulnerabilityRating(
                severity=VulnerabilitySeverity(f.severity) if f.severity != "unknown" else VulnerabilitySeverity.UNKNOWN,
                score=f.cvss_score, method=VulnerabilityScoreSource.CVSS_V3_1 if f.cvss_score is not None else None,
            )
            bom.vulnerabilities.add(Vulnerability(
                bom_ref=f"{f.vulnerability_id}:{f.purl}", id=f.vulnerability_id, description=f.summary or None,
                ratings=[rating], affects=[BomTarget(ref=f.purl)],
                recommendation=f"Upgrade to {f.fixed_version}" if f.fixed_version else None,
            ))
    return JsonV1Dot5(bom).output_as_string(indent=2)


def to_spdx(scan: Scan) -> dict:
    sbom = SBOM.from_dict(scan.sbom)
    packages, relationships = [], []
    root = "SPDXRef-image"
    packages.append({"SPDXID": root, "name": scan.image_ref, "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
                     "primaryPackagePurpose": "CONTAINER"})
    for index, p in enumerate(sbom.packages, 1):
        spdx_id = f"SPDXRef-Package-{index}"
        packages.append({
            "SPDXID": spdx_id, "name": p.name, "versionInfo": p.version, "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False, "supplier": "NOASSERTION", "sourceInfo": f"{ecosystem_of(p, sbom.os)} package from {p.path}",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl(p, sbom.os)}],
        })
        relationships.append({"spdxElementId": root, "relationshipType": "CONTAINS", "relatedSpdxElement": spdx_id})
    relationships.insert(0, {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": root})
    return {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": f"sbom-{scan.image_ref}",
        "documentNamespace": f"{settings.SITE_URL}/spdx/scan-{scan.pk}-{uuid.uuid4()}",
        "creationInfo": {"created": scan.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "creators": [f"Tool: {TOOL}"]},
        "packages": packages, "relationships": relationships,
    }


FORMATS = {
    "json": ("application/json", lambda s: json.dumps(to_json(s), indent=2), "json"),
    "sarif": ("application/sarif+json", lambda s: json.dumps(to_sarif(s), indent=2), "sarif"),
    "cyclonedx": ("application/vnd.cyclonedx+json", to_cyclonedx, "cdx.json"),
    "spdx": ("application/spdx+json", lambda s: json.dumps(to_spdx(s), indent=2), "spdx.json"),
}


def render(scan: Scan, fmt: str) -> tuple[str, str, str]:
    """(body, content type, file extension) for a format name in FORMATS."""
    content_type, fn, ext = FORMATS[fmt]
    return fn(scan), content_type, ext
