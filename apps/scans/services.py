"""Scans services: request_* authorize and start Operations; perform_* do the work.

Scanning streams `docker save` from the engine through the SBOM parser (nothing on disk),
matches the SBOM against the team's imported databases, ranks findings by the exposure of the
containers running the image, evaluates policies and publishes `scan.new_findings` for newly
found critical issues. Re-matching after a database import reuses the stored SBOMs.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.activity import operations
from apps.core import events
from apps.core.api import user_may
from apps.core.roles import Action

from . import audit, osv
from .matching import match_sbom, rank
from .models import (
    AffectedPackage,
    AuditExclusion,
    ConfigAudit,
    Finding,
    Scan,
    Suppression,
    Vulnerability,
    VulnerabilityDatabase,
)
from .policies import evaluate_scan
from .sbom import SBOM, scan_file, scan_stream

logger = logging.getLogger(__name__)
BATCH = 2000


def _require(user, team_id, action) -> None:
    if user is not None and not user_may(user, team_id, action):
        raise PermissionDenied("Your role in this team does not allow this action.")


def repo_of(image_ref: str) -> str:
    """"registry:5000/a/b:tag" -> "registry:5000/a/b" (what two scans of one repo share)."""
    ref = image_ref.split("@", 1)[0]
    head, _, tail = ref.rpartition("/")
    name = tail.split(":", 1)[0]
    return f"{head}/{name}" if head else name


# --- vulnerability databases ------------------------------------------------------------------

def _modified(record: dict) -> datetime | None:
    value = record.get("modified") or record.get("published")
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def import_records(team, records: Iterable[dict], *, name: str, source: str = "", kind: str = "osv") -> VulnerabilityDatabase:
    """Store OSV records as one database of the team (bulk, in one transaction)."""
    with transaction.atomic():
        db = VulnerabilityDatabase.objects.create(team=team, name=name[:200], source=source[:500], kind=kind)
        count, newest, ecosystems = 0, None, set()
        pending: list[tuple[Vulnerability, list]] = []

        def flush():
            Vulnerability.objects.bulk_create([v for v, _ in pending], batch_size=BATCH)
            affected = [
                AffectedPackage(database=db, vulnerability=v, ecosystem=a.ecosystem, name=a.name, ranges=a.ranges, versions=a.versions)
                for v, entries in pending for a in entries
            ]
            AffectedPackage.objects.bulk_create(affected, batch_size=BATCH)
            pending.clear()

        seen = set()
        for record in records:
            if record["id"] in seen:
                continue  # the same record twice in one upload: keep the first
            seen.add(record["id"])
            severity, score, vector = osv.severity_of(record)
            modified = _modified(record)
            newest = max(newest, modified) if newest and modified else (modified or newest)
            entries = osv.affected_entries(record)
            ecosystems.update(a.ecosystem for a in entries)
            pending.append((
                Vulnerability(
                    database=db, osv_id=record["id"][:200], summary=str(record.get("summary") or record.get("details") or "")[:500],
                    aliases=list(record.get("aliases") or [])[:50], severity=severity, cvss_score=score,
                    cvss_vector=vector[:200], links=osv.links_of(record), modified=modified,
                ),
                entries,
            ))
            count += 1
            if len(pending) >= BATCH:
                flush()
        flush()
        VulnerabilityDatabase.objects.filter(pk=db.pk).update(record_count=count, newest_record_at=newest, ecosystems=sorted(ecosystems))
    db.refresh_from_db()
    return db


def import_path(team, path: str, *, name: str = "") -> VulnerabilityDatabase:
    return import_records(team, osv.read_path(path), name=name or os.path.basename(path.rstrip("/")), source=path)


def request_import(user, team, upload, name: str = "") -> operations.Operation:
    """Save the upload to a private temp file and import it as an Operation (then re-match)."""
    _require(user, team.pk, Action.MANAGE)
    from .tasks import import_database

    folder = settings.VAR_DIR / "scans-uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, path = tempfile.mkstemp(dir=folder, suffix=".upload")
    with os.fdopen(fd, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return operations.start(
        team=team, kind="scans.import", task=import_database, user=user, target_kind="vulnerability_database",
        target_name=name or upload.name, params={"path": path, "name": name or upload.name},
    )


def perform_import(op, progress) -> dict:
    path = op.params["path"]
    try:
        with open(path, "rb") as fh:
            records = list(osv.read_upload(fh.read(), op.params.get("name", "upload")))
    finally:
        if os.path.exists(path):
            os.unlink(path)
    progress.log(f"read {len(records)} records")
    db = import_records(op.team, records, name=op.params.get("name") or "upload", source=f"upload: {op.params.get('name', '')}")
    progress.log(f"imported {db.record_count} records ({', '.join(db.ecosystems) or 'no supported ecosystem'})")
    rematched = rematch_team(op.team)
    progress.log(f"re-matched {rematched} scans")
    return {"database": db.pk, "records": db.record_count, "rematched": rematched}


def rematch_team(team) -> int:
    """After a database change: re-match the latest scan of every repo (stored SBOMs)."""
    latest: dict[str, Scan] = {}
    for scan in Scan.objects.filter(team=team, status=Scan.Status.SUCCEEDED).order_by("-created_at").only("pk", "repo", "image_ref"):
        latest.setdefault(scan.repo or scan.image_ref, scan)
    for scan in latest.values():
        match_scan(Scan.objects.get(pk=scan.pk))
    return len(latest)


# --- scanning -----------------------------------------------------------------------------------

def _database_summary(dbs: list[VulnerabilityDatabase]) -> list[dict]:
    return [
        {"id": d.pk, "name": d.name, "imported_at": d.imported_at.isoformat(),
         "newest_record_at": d.newest_record_at.isoformat() if d.newest_record_at else None,
         "age_days": round(d.age.total_seconds() / 86400, 1), "stale": d.is_stale}
        for d in dbs
    ]


def exposure_of(scan: Scan) -> list[str]:
    """How the containers running this image are exposed (raises its findings' rank)."""
    from apps.containers.models import Container

    if not scan.image_digest:
        return []
    flags = set()
    for c in Container.objects.filter(team_id=scan.team_id, image_id=scan.image_digest).present().only("inspect", "ports"):
        hc = (c.inspect or {}).get("HostConfig") or {}
        if hc.get("Privileged"):
            flags.add("privileged")
        if hc.get("NetworkMode") == "host":
            flags.add("host-network")
        if c.ports or hc.get("PortBindings"):
            flags.add("ports")
    return sorted(flags)


def _suppression_for(finding: Finding, suppressions: list[Suppression], repo: str) -> Suppression | None:
    ids = {finding.vulnerability_id, *finding.aliases}
    for s in suppressions:
        if s.vulnerability_id in ids and s.package in ("", finding.package) and s.image_repo in ("", repo):
            return s
    return None


def match_scan(scan: Scan, *, previous_keys: set | None = None, publish: bool = True) -> list[Finding]:
    """(Re)build the scan's findings from its stored SBOM; publish newly found criticals."""
    sbom = SBOM.from_dict(scan.sbom)
    dbs = list(VulnerabilityDatabase.objects.filter(team_id=scan.team_id))
    if previous_keys is None:
        previous_keys = set(Finding.objects.filter(scan=scan).values_list("vulnerability_id", "package"))
    exposure = exposure_of(scan)
    suppressions = list(Suppression.objects.filter(team_id=scan.team_id).active())
    findings = []
    for m in match_sbom(sbom, dbs):
        f = Finding(
            team_id=scan.team_id, scan=scan, vulnerability_id=m.vulnerability_id, aliases=m.aliases, summary=m.summary,
            package=m.package.name, package_type=m.package.type, ecosystem=m.ecosystem, version=m.package.version,
            fixed_version=m.fixed_version, severity=m.severity, cvss_score=m.cvss_score, links=m.links, purl=m.purl[:500],
            path=m.package.path[:500], layer=m.package.layer[:200], rank=rank(m.severity, m.cvss_score, m.fixed_version, exposure),
        )
        f.suppression = _suppression_for(f, suppressions, scan.repo)
        findings.append(f)
    counts = {s: 0 for s in osv.SEVERITIES}
    for f in findings:
        if f.suppression is None:
            counts[f.severity] += 1
    with transaction.atomic():
        Finding.objects.filter(scan=scan).delete()
        Finding.objects.bulk_create(findings, batch_size=BATCH)
        Scan.objects.filter(pk=scan.pk).update(
            databases=_database_summary(dbs), matched_at=timezone.now(), exposure=exposure, counts=counts
        )
    scan.refresh_from_db()
    new_critical = [f for f in findings if f.severity == "critical" and f.suppression is None and f.key not in previous_keys]
    if publish and new_critical:
        events.publish(
            "scan.new_findings", scan.team_id, severity="critical", host=scan.host,
            target=events.ref("image", scan.image_digest or scan.pk, scan.image_ref),
            summary=f"{len(new_critical)} new critical vulnerabilities in {scan.image_ref}",
            url=reverse("scans:scan_detail", args=[scan.pk]),
            data={"scan": scan.pk, "findings": [{"id": f.vulnerability_id, "package": f.package, "version": f.version,
                                                  "fixed_version": f.fixed_version} for f in new_critical[:50]]},
        )
    evaluate_scan(scan, publish=publish)
    return findings


def _previous_keys(scan: Scan) -> set:
    prior = Scan.objects.filter(team_id=scan.team_id, repo=scan.repo, status=Scan.Status.SUCCEEDED).exclude(pk=scan.pk).order_by("-created_at").first()
    return set(Finding.objects.filter(scan=prior).values_list("vulnerability_id", "package")) if prior else set()


def complete_scan(scan: Scan, sbom: SBOM, *, image_inspect: dict | None = None, started: float | None = None) -> Scan:
    """Store the SBOM and image checks, match, evaluate policies."""
    image_checks = audit.run_checks(audit.Context({}, image_inspect or {}, scan.image_ref), kinds=("image",)) if image_inspect else []
    Scan.objects.filter(pk=scan.pk).update(
        sbom=sbom.as_dict(), os=sbom.os.as_dict(), package_count=len(sbom.packages), image_checks=image_checks,
        image_digest=scan.image_digest or (image_inspect or {}).get("Id", ""),
    )
    scan.refresh_from_db()
    match_scan(scan, previous_keys=_previous_keys(scan))
    Scan.objects.filter(pk=scan.pk).update(
        status=Scan.Status.SUCCEEDED, finished_at=timezone.now(), duration=(time.monotonic() - started) if started else None
    )
    scan.refresh_from_db()
    return scan


def scan_archive(team, path: str, image_ref: str) -> Scan:
    """Scan an image archive file (either layout) through the same parser (tests, offline use)."""
    started = time.monotonic()
    scan = Scan.objects.create(team=team, image_ref=image_ref, repo=repo_of(image_ref), source="archive",
                               status=Scan.Status.RUNNING, started_at=timezone.now())
    return complete_scan(scan, scan_file(path), started=started)


def request_scan(user, image, *, image_ref: str = "") -> operations.Operation:
    """Scan one mirrored image as an Operation (OPERATE)."""
    _require(user, image.team_id, Action.OPERATE)
    from .tasks import scan_image

    ref = image_ref or (image.repo_tags[0] if image.repo_tags else image.docker_id)
    scan = Scan.objects.create(team_id=image.team_id, host_id=image.host_id, image=image, image_ref=ref,
                               image_digest=image.docker_id, repo=repo_of(ref))
    op = operations.start(team=image.team, kind="scans.scan", task=scan_image, user=user, target_kind="image",
                          target_id=image.pk, target_name=ref, params={"scan": scan.pk})
    Scan.objects.filter(pk=scan.pk).update(operation=op)
    return op


def perform_scan(op, progress) -> dict:
    return run_scan(op.params["scan"], progress)


def scan_image_now(team_id: int, host, image_id: str, image_ref: str, progress) -> Scan:
    """Scan one image of `host` inside the caller's own task (another app's Operation, such
    as an update's vulnerability gate), with the same parser, matching and policies; a
    succeeded scan of the same image id is reused. The caller authorized the work."""
    from apps.containers.models import Image

    existing = Scan.objects.filter(team_id=team_id, image_digest=image_id, status=Scan.Status.SUCCEEDED).order_by("-created_at").first()
    if existing:
        return existing
    image = Image.objects.filter(host=host, docker_id=image_id).first()
    scan = Scan.objects.create(team_id=team_id, host=host, image=image, image_ref=image_ref, image_digest=image_id,
                               repo=repo_of(image_ref))
    run_scan(scan.pk, progress)
    scan.refresh_from_db()
    return scan


def run_scan(scan_pk: int, progress) -> dict:
    """Stream the image out of its engine, parse, match, evaluate (the work of one scan)."""
    from apps.engine.images_export import inspect_image, save_chunks
    from apps.hosts.services import client_for

    scan = Scan.objects.select_related("host").get(pk=scan_pk)
    if scan.status == Scan.Status.SUCCEEDED:
        return {"scan": scan.pk}  # redelivered: already done
    started = time.monotonic()
    Scan.objects.filter(pk=scan.pk).update(status=Scan.Status.RUNNING, started_at=timezone.now())
    try:
        client = client_for(scan.host, timeout=settings.SCANS_ENGINE_TIMEOUT)
        try:
            ref = scan.image_digest or scan.image_ref
            inspect = inspect_image(client, ref)
            progress.log(f"streaming docker save of {scan.image_ref}")
            sbom = scan_stream(save_chunks(client, ref))
        finally:
            client.close()
        progress.log(f"{len(sbom.packages)} packages, OS {sbom.os.pretty_name or sbom.os.id or 'unknown'}")
        progress.progress(0.7)
        scan = complete_scan(scan, sbom, image_inspect=inspect, started=started)
    except Exception as exc:
        Scan.objects.filter(pk=scan.pk).update(status=Scan.Status.FAILED, error=str(exc)[:5000], finished_at=timezone.now())
        raise
    progress.log(f"{sum(scan.counts.values())} findings: {scan.counts}")
    return {"scan": scan.pk, "packages": scan.package_count, "counts": scan.counts}


def images_in_use(team=None):
    from apps.containers.models import Container, Image

    containers = Container.objects.present()
    images = Image.objects.present().filter(docker_id__in=containers.values("image_id"))
    return images.filter(team=team) if team is not None else images


def rescan_all() -> int:
    """Beat: scan every image that a present container uses (no user: system operations)."""
    count = 0
    for image in images_in_use().select_related("team"):
        request_scan(None, image)
        count += 1
    return count


# --- diff ---------------------------------------------------------------------------------------

def diff_scans(old: Scan, new: Scan) -> dict:
    def index(scan):
        return {(f.vulnerability_id, f.package): f for f in Finding.objects.filter(scan=scan)}

    a, b = index(old), index(new)
    return {
        "added": [b[k] for k in sorted(b.keys() - a.keys())],
        "removed": [a[k] for k in sorted(a.keys() - b.keys())],
        "unchanged": [b[k] for k in sorted(a.keys() & b.keys())],
    }


# --- suppressions -------------------------------------------------------------------------------

def apply_suppressions(team) -> None:
    """Re-link findings to the team's suppressions (after one is added, changed or removed)."""
    suppressions = list(Suppression.objects.filter(team=team).active())
    for scan in Scan.objects.filter(team=team, status=Scan.Status.SUCCEEDED):
        changed = []
        for f in Finding.objects.filter(scan=scan):
            s = _suppression_for(f, suppressions, scan.repo)
            if (s.pk if s else None) != f.suppression_id:
                f.suppression = s
                changed.append(f)
        Finding.objects.bulk_update(changed, ["suppression"], batch_size=BATCH)
        if changed:
            counts = {sev: 0 for sev in osv.SEVERITIES}
            for sev in Finding.objects.filter(scan=scan).unsuppressed().values_list("severity", flat=True):
                counts[sev] += 1
            Scan.objects.filter(pk=scan.pk).update(counts=counts)


# --- config audit -------------------------------------------------------------------------------

def excluded_checks(team_id, container_name: str) -> set[str]:
    rows = AuditExclusion.objects.filter(team_id=team_id, container_name__in=["", container_name])
    return set(rows.values_list("check_id", flat=True))


def audit_inspect(team, container_inspect: dict, image_inspect: dict, *, host=None, container=None) -> ConfigAudit:
    name = (container_inspect.get("Name") or "").lstrip("/")
    ref = (container_inspect.get("Config") or {}).get("Image", "")
    results = audit.run_checks(audit.Context(container_inspect, image_inspect, ref), excluded=excluded_checks(team.pk, name))
    return ConfigAudit.objects.create(
        team=team, host=host, container=container, container_name=name, container_docker_id=container_inspect.get("Id", ""),
        image_ref=ref, results=results, failed=audit.failed_ids(results),
    )


def request_config_audit(user, container) -> operations.Operation:
    _require(user, container.team_id, Action.OPERATE)
    from .tasks import audit_container

    return operations.start(team=container.team, kind="scans.config_audit", task=audit_container, user=user,
                            target_kind="container", target_id=container.pk, target_name=container.name,
                            params={"container": container.pk})


def perform_config_audit(op, progress) -> dict:
    from apps.containers.models import Container
    from apps.engine.images_export import inspect_container, inspect_image
    from apps.hosts.services import client_for

    container = Container.objects.select_related("host", "team").get(pk=op.params["container"])
    client = client_for(container.host, timeout=settings.SCANS_ENGINE_TIMEOUT)
    try:
        c_inspect = inspect_container(client, container.docker_id)
        i_inspect = inspect_image(client, c_inspect.get("Image", ""))
    finally:
        client.close()
    result = audit_inspect(container.team, c_inspect, i_inspect, host=container.host, container=container)
    ConfigAudit.objects.filter(pk=result.pk).update(operation=op)
    progress.log(f"{len(result.failed)} checks failed: {', '.join(result.failed) or 'none'}")
    return {"config_audit": result.pk, "failed": result.failed}
