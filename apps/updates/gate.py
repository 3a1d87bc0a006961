"""The vulnerability gate of an update: scan the new image, compare its findings with the
running image's, and block when the *added* findings break one of the team's blocking
vulnerability policies (findings the running image already has do not block an update that
does not make things worse)."""

from __future__ import annotations

from apps.scans.models import Finding, Policy
from apps.scans.osv import SEVERITY_RANK
from apps.scans.services import diff_scans

VULN_RULES = (Policy.Rule.NO_FIXABLE, Policy.Rule.MAX_SEVERITY)


def _row(f: Finding) -> dict:
    return {"id": f.vulnerability_id, "package": f.package, "version": f.version, "fixed": f.fixed_version,
            "severity": f.severity, "aliases": f.aliases[:5]}


def _active(f: Finding) -> bool:
    return not f.is_suppressed


def violations(team_id: int, added: list[Finding]) -> list[str]:
    reasons = []
    for policy in Policy.objects.filter(team_id=team_id, enabled=True, enforcement=Policy.Enforcement.BLOCK, rule__in=VULN_RULES):
        floor = SEVERITY_RANK.get(policy.severity, 4)
        hits = [f for f in added if _active(f) and SEVERITY_RANK.get(f.severity, 0) >= floor
                and (policy.rule != Policy.Rule.NO_FIXABLE or f.fixed_version)]
        if hits:
            ids = ", ".join(sorted({f.vulnerability_id for f in hits})[:5])
            reasons.append(f"Policy “{policy.name}”: the new image adds {len(hits)} {policy.severity}+ finding(s) ({ids})")
    return reasons


def evaluate(ctx, *, scan_fn) -> tuple[dict, list[str]]:
    """(diff as JSON, blocking reasons) for the run's new image against the running one."""
    old = scan_fn(ctx, ctx.run.from_image_id, ctx.run.from_ref)
    new = scan_fn(ctx, ctx.new_image_id, ctx.run.to_ref)
    diff = diff_scans(old, new)
    added = [f for f in diff["added"] if _active(f)]
    data = {
        "old_scan": old.pk, "new_scan": new.pk,
        "added": [_row(f) for f in added],
        "removed": [_row(f) for f in diff["removed"]],
        "unchanged": len(diff["unchanged"]),
    }
    return data, violations(ctx.run.team_id, added)


def record_override(run, reasons: list[str]) -> None:
    """The admin's override, audited as the scans app records policy overrides."""
    from apps.activity.audit import record_action
    from apps.core.checks import CheckResult
    from apps.scans.policies import record_override as scans_record

    scans_record(run.created_by, run.team_id, {"image": run.to_ref, "name": run.container_name},
                 [CheckResult(level="block", reason=r) for r in reasons])
    record_action("update.override", run.container, {"run": run.pk, "to": run.to_ref, "overridden": reasons})
