"""scan IMAGE (vulnerabilities, follows the Operation) and audit CONTAINER (configuration)."""

from __future__ import annotations

from .. import operations, resolve
from ..completion import container_names
from ..context import Ctx
from ..errors import CliError
from ..output import Column

SEVERITIES = ("unknown", "low", "medium", "high", "critical")

FINDING_COLUMNS = [
    Column("SEVERITY", lambda r: r["severity"], no_wrap=True),
    Column("ID", lambda r: r["vulnerability_id"], style="bold", no_wrap=True),
    Column("PACKAGE", lambda r: r["package"]),
    Column("VERSION", lambda r: r.get("version")),
    Column("FIXED IN", lambda r: r.get("fixed_version")),
    Column("SUMMARY", lambda r: r.get("summary")),
]
CHECK_COLUMNS = [
    Column("STATUS", lambda r: r["status"], no_wrap=True),
    Column("SEVERITY", lambda r: r.get("severity"), no_wrap=True),
    Column("CHECK", lambda r: r["id"], style="bold", no_wrap=True),
    Column("TITLE", lambda r: r.get("title")),
    Column("EVIDENCE", lambda r: r.get("evidence")),
]


def _finished(ctx: Ctx, accepted: dict, label: str) -> dict:
    op = operations.follow(ctx, accepted, label)
    if getattr(ctx.args, "detach", False):
        return op
    operations.check(op)
    return op


def _at_or_above(counts: dict, threshold: str) -> int:
    rank = SEVERITIES.index(threshold)
    return sum(int(counts.get(s, 0) or 0) for s in SEVERITIES[rank:])


def scan(ctx: Ctx) -> int:
    image = resolve.image(ctx, ctx.args.image)
    ref = (image.get("repo_tags") or [image["docker_id"][:19]])[0]
    op = _finished(ctx, ctx.client.post("scans/", {"image": image["id"]}), f"scan {ref}")
    if ctx.args.detach:
        ctx.out.json(op) if ctx.json else None
        return 0
    scan_id = (op.get("result") or {}).get("scan")
    if not scan_id:
        raise CliError(f"Operation {op['id']} finished without a scan.")
    report = ctx.client.get(f"scans/{scan_id}/")
    findings = ctx.client.list("findings/", {"scan": scan_id, "ordering": "rank", "suppressed": "false"}, limit=ctx.args.limit)
    counts = report.get("counts") or {}
    if ctx.json:
        ctx.out.json({"scan": report, "findings": findings, "operation": op["id"]})
    else:
        summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in reversed(SEVERITIES) if counts.get(s))
        ctx.out.text(f"Scan {report['id']} of {report['image_ref']}: {report.get('package_count', 0)} packages, "
                     f"{summary or 'no vulnerabilities'}.")
        if findings:
            ctx.out.table(FINDING_COLUMNS, findings)
    if ctx.args.fail_on and _at_or_above(counts, ctx.args.fail_on):
        if not ctx.json:
            ctx.out.error(f"Findings at or above {ctx.args.fail_on}.")
        return 1
    return 0


def audit(ctx: Ctx) -> int:
    container = resolve.container(ctx, ctx.args.container)
    op = _finished(ctx, ctx.client.post("config-audits/", {"container": container["id"]}), f"audit {container['name']}")
    if ctx.args.detach:
        ctx.out.json(op) if ctx.json else None
        return 0
    audit_id = (op.get("result") or {}).get("config_audit")
    if not audit_id:
        raise CliError(f"Operation {op['id']} finished without an audit.")
    report = ctx.client.get(f"config-audits/{audit_id}/")
    if ctx.json:
        ctx.out.json(report)
        return 0
    results = report.get("results") or []
    shown = results if ctx.args.all else [r for r in results if r.get("status") == "fail"]
    failed = report.get("failed") or []
    ctx.out.text(f"Audit of {report['container_name']}: {len(failed)} of {len(results)} checks failed.")
    if shown:
        ctx.out.table(CHECK_COLUMNS, shown)
    return 0


def register(sub, add) -> None:
    p = add(sub, "scan", scan, "Scan an image for vulnerabilities (follows the operation)")
    p.add_argument("image", metavar="IMAGE", help="Reference (repo:tag), image id prefix, or mirror id")
    p.add_argument("--host", help="Host name or id, when the image is on several")
    p.add_argument("--fail-on", choices=SEVERITIES, help="Exit 1 when a finding is at or above this severity")
    p.add_argument("-n", "--limit", type=int, default=50, help="Findings to show (default 50)")
    p.add_argument("-d", "--detach", action="store_true")
    p = add(sub, "audit", audit, "Audit a container's configuration (follows the operation)")
    p.add_argument("container", metavar="CONTAINER").completer = container_names
    p.add_argument("--host", help="Host name or id, when names repeat")
    p.add_argument("--all", action="store_true", help="Show passed checks too")
    p.add_argument("-d", "--detach", action="store_true")
