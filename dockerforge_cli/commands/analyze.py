"""analyze CONTAINER (alias troubleshoot): run the detectors (and the team's AI provider, or
the offline one) on a container's state, events and log; print the findings with the evidence
lines they cite, then the explanation. Follows the Operation."""

from __future__ import annotations

from .. import operations, resolve
from ..completion import container_names
from ..context import Ctx
from ..errors import CliError

SEVERITY_STYLES = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}
MAX_EVIDENCE = 3


def _where(ev: dict) -> str:
    source = ev.get("source") or "?"
    return f"{source}:{ev['line']}" if ev.get("line") else source


def _print_finding(ctx: Ctx, index: int, finding: dict) -> None:
    out = ctx.out
    out.text(f"{index}. [{finding.get('severity', '?')}] {finding.get('title', '')} ({finding.get('category', '')})",
             style=SEVERITY_STYLES.get(finding.get("severity", ""), "bold"))
    if finding.get("explanation"):
        out.text(f"   {finding['explanation']}")
    evidence = finding.get("evidence") or []
    for ev in evidence[:MAX_EVIDENCE]:
        label = f"{ev.get('id') or ''} {_where(ev)}".strip()
        out.text(f"   {label}: {ev.get('text', '')}", style="dim")
    if len(evidence) > MAX_EVIDENCE:
        out.text(f"   … {len(evidence) - MAX_EVIDENCE} more evidence item(s) (--json shows all)", style="dim")
    for step in finding.get("remediation") or []:
        out.text(f"   → {step}")


def _print(ctx: Ctx, analysis: dict) -> None:
    findings = analysis.get("findings") or []
    ctx.out.text(f"Analysis {analysis['id']} of {analysis['target_name']}: {len(findings)} finding(s) "
                 f"({analysis.get('provider')}, {analysis.get('model')}"
                 f"{', cached' if analysis.get('cached_from') else ''}).", style="bold")
    for i, finding in enumerate(findings, 1):
        ctx.out.text()
        _print_finding(ctx, i, finding)
    if analysis.get("explanation"):
        ctx.out.text()
        ctx.out.text("Explanation:", style="bold")
        ctx.out.text(analysis["explanation"])
    if analysis.get("invalid_citations"):
        ctx.out.info(f"The explanation cites evidence that does not exist: {', '.join(analysis['invalid_citations'])}")


def analyze(ctx: Ctx) -> int:
    container = resolve.container(ctx, ctx.args.container)
    accepted = ctx.client.post("analyses/", {"container": container["id"]})
    op = operations.follow(ctx, accepted, f"analyze {container['name']}")
    if ctx.args.detach:
        ctx.out.json({**op, "analysis": accepted.get("analysis")}) if ctx.json else None
        return 0
    if not ctx.json:
        operations.check(op)
    analysis_id = accepted.get("analysis") or (op.get("result") or {}).get("analysis")
    if not analysis_id:
        raise CliError(f"Operation {op['id']} finished without an analysis.")
    analysis = ctx.client.get(f"analyses/{analysis_id}/")
    if ctx.json:
        ctx.out.json(analysis)
    else:
        _print(ctx, analysis)
    return 0 if analysis.get("status") == "succeeded" else 1


def register(sub, add) -> None:
    p = add(sub, "analyze", analyze, "Explain why a container misbehaves: findings with evidence (follows the operation)",
            aliases=["troubleshoot"])
    p.add_argument("container", metavar="CONTAINER").completer = container_names
    p.add_argument("--host", help="Host name or id, when names repeat")
    p.add_argument("-d", "--detach", action="store_true")
