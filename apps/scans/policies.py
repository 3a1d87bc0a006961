"""Team policies: evaluated on every scan and, through `core.checks`, before a container is
created or updated.

The spec a caller passes to `checks.run("container.create" | "container.update", team, spec)`
is a dict; the keys read here are:
  image        image reference ("repo:tag") — its latest scan decides the vulnerability rules
  privileged   bool
  network_mode "host" | ... (also accepts `network`)
  binds        list of "src:dst[:mode]" strings, or `volumes`: a list of such strings or a
               {src: {"bind": dst}} dict (docker SDK style); `mounts` with {"Source"|"source"}
  user         "uid[:gid]" or a name; empty means the image's user
"""

from __future__ import annotations

from django.urls import reverse

from apps.core import events
from apps.core.checks import CheckResult

from .models import Finding, Policy, Scan
from .osv import SEVERITY_RANK

DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")


def _sources(spec: dict) -> list[str]:
    out = []
    for bind in spec.get("binds") or []:
        out.append(str(bind).split(":")[0])
    volumes = spec.get("volumes") or []
    if isinstance(volumes, dict):
        out.extend(volumes.keys())
    else:
        out.extend(str(v).split(":")[0] for v in volumes)
    for mount in spec.get("mounts") or []:
        if isinstance(mount, dict):
            out.append(mount.get("Source") or mount.get("source") or "")
    return out


def spec_violation(policy: Policy, spec: dict) -> str:
    """Why the container spec breaks the policy, or ""."""
    rule = policy.rule
    if rule == Policy.Rule.NO_PRIVILEGED and spec.get("privileged"):
        return "privileged containers are not allowed"
    if rule == Policy.Rule.NO_HOST_NETWORK and (spec.get("network_mode") or spec.get("network")) == "host":
        return "host networking is not allowed"
    if rule == Policy.Rule.NO_DOCKER_SOCK:
        hits = [s for s in _sources(spec) if s in DOCKER_SOCKETS]
        if hits:
            return f"mounting the Docker socket ({hits[0]}) is not allowed"
    if rule == Policy.Rule.NO_ROOT and "user" in spec and str(spec.get("user") or "").split(":")[0] in ("", "root", "0"):
        return "containers must run as a non-root user"
    return ""


def _at_or_above(findings, severity: str):
    wanted = [s for s, r in SEVERITY_RANK.items() if r >= SEVERITY_RANK.get(severity, 4)]
    return findings.filter(severity__in=wanted)


def scan_violation(policy: Policy, scan: Scan) -> str:
    findings = _at_or_above(Finding.objects.filter(scan=scan).unsuppressed(), policy.severity)
    if policy.rule == Policy.Rule.NO_FIXABLE:
        findings = findings.exclude(fixed_version="")
        count = findings.count()
        return f"{count} {policy.severity}+ vulnerabilities with a fix available" if count else ""
    if policy.rule == Policy.Rule.MAX_SEVERITY:
        count = findings.count()
        return f"{count} {policy.severity}+ vulnerabilities" if count else ""
    return ""


def evaluate_scan(scan: Scan, *, publish: bool = True) -> list[dict]:
    """Store and publish the scan's policy results."""
    results = []
    for policy in Policy.objects.filter(team_id=scan.team_id, enabled=True):
        reason = scan_violation(policy, scan)
        if reason:
            results.append({"policy": policy.pk, "name": policy.name, "enforcement": policy.enforcement, "reason": reason})
    Scan.objects.filter(pk=scan.pk).update(policy_results=results)
    if publish and results:
        events.publish(
            "scan.policy_violation", scan.team_id, severity="error" if any(r["enforcement"] == "block" for r in results) else "warning",
            host=scan.host, target=events.ref("image", scan.image_digest or scan.pk, scan.image_ref),
            summary=f"{scan.image_ref}: " + "; ".join(f"{r['name']}: {r['reason']}" for r in results),
            url=reverse("scans:scan_detail", args=[scan.pk]), data={"scan": scan.pk, "violations": results},
        )
    return results


def _latest_scan(team, image_ref: str) -> Scan | None:
    return (
        Scan.objects.filter(team=team, image_ref=image_ref, status=Scan.Status.SUCCEEDED).order_by("-created_at").first()
        if image_ref else None
    )


def check_container_spec(team, spec: dict) -> list[CheckResult]:
    """The `core.checks` hook for "container.create" and "container.update"."""
    results = []
    spec = spec or {}
    scan = None
    for policy in Policy.objects.filter(team=team, enabled=True):
        reason = spec_violation(policy, spec)
        if not reason and policy.rule in (Policy.Rule.NO_FIXABLE, Policy.Rule.MAX_SEVERITY):
            scan = scan or _latest_scan(team, spec.get("image", ""))
            reason = scan_violation(policy, scan) if scan else ""
        if reason:
            results.append(CheckResult(level=policy.enforcement, reason=f"Policy “{policy.name}”: {reason}", source=f"scans.policy:{policy.pk}"))
    if results:
        events.publish(
            "scan.policy_violation", team, severity="error" if any(r.blocks for r in results) else "warning",
            target={"kind": "container_spec", "id": None, "name": str(spec.get("name") or spec.get("image") or ""), "labels": {}},
            summary="; ".join(r.reason for r in results),
            data={"stage": "container.create", "violations": [r.reason for r in results], "blocked": any(r.blocks for r in results)},
        )
    return results


def record_override(user, team, spec: dict, results: list[CheckResult]):
    """Audit an admin's override of blocking results (callers that let an admin proceed)."""
    from apps.activity.audit import record

    return record(
        "action", None, name="policy_override", team_id=getattr(team, "pk", team), object_type="scans.policy",
        object_id="", object_repr=str(spec.get("name") or spec.get("image") or "container"),
        after={"spec": {k: spec.get(k) for k in ("image", "privileged", "network_mode", "user")}, "overridden": [r.reason for r in results]},
    )
