"""analyze CONTAINER (alias troubleshoot): run the detectors (and the team's AI provider, or
the offline one) on a container's state, events and log; print the findings with the evidence
lines they cite, then the explanation. Follows the Operation.

--agents runs the coordinator and its specialised agents: each step (agent, tool, a short
output) prints as it is stored, over /ws/ai/analyses/<id>/ (token auth), then the final
answer; --json includes the steps."""

from __future__ import annotations

from .. import operations, resolve
from ..completion import container_names
from ..context import Ctx
from ..errors import CliError

SEVERITY_STYLES = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}
MAX_EVIDENCE = 3
STEP_TIMEOUT = 600  # between two steps (a provider turn may be slow)


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


STEP_OUTPUT_CHARS = 100


def step_line(number: int, step: dict) -> str:
    """`3. performance → inspect section=limits: Memory 16 MiB ...` (one line, short)."""
    args = " ".join(f"{k}={v}" for k, v in (step.get("input") or {}).items() if k != "agents")
    what = f"{step.get('tool')}{' ' + args if args else ''}" if step.get("tool") else "answer"
    first = " ".join((step.get("output_summary") or "").split()[:40])  # the start of the output, on one line
    if len(first) > STEP_OUTPUT_CHARS:
        first = first[: STEP_OUTPUT_CHARS - 1] + "…"
    return f"{number:>3}. {step.get('agent', '?')} → {what}: {first}"


def _stream_steps(ctx: Ctx, analysis_id: int, printed: set[int]) -> None:
    """Print each step as the server stores it until the analysis ends. A stream that cannot
    open is not an error: the steps print from the finished analysis instead."""
    import json

    from websockets.exceptions import ConnectionClosed

    from ..streams import _connect

    try:
        ws = _connect(ctx, f"/ws/ai/analyses/{analysis_id}/", {})
    except CliError as exc:
        ctx.out.info(f"(no live steps: {exc.message})")
        return
    try:
        ready = json.loads(ws.recv(timeout=30))
        pending_snapshot = int(ready.get("steps") or 0)
        finished = ready.get("status") not in (None, "pending")
        while not (finished and pending_snapshot <= 0):
            message = json.loads(ws.recv(timeout=STEP_TIMEOUT))
            if message.get("type") == "step":
                pending_snapshot -= 1
                if message["number"] not in printed:
                    printed.add(message["number"])
                    ctx.out.text(step_line(message["number"], message.get("step") or {}))
            elif message.get("type") == "changed" and message.get("what") == "status":
                return
    except (ConnectionClosed, TimeoutError):
        return
    finally:
        ws.close()


def _print_missing_steps(ctx: Ctx, analysis: dict, printed: set[int]) -> None:
    for step in analysis.get("steps") or []:
        if step["number"] not in printed:
            printed.add(step["number"])
            ctx.out.text(step_line(step["number"], step))


def _print_agent_status(ctx: Ctx, analysis: dict) -> None:
    status = analysis.get("agent_status")
    if status == "step_cap":
        ctx.out.info("The agent run stopped at its step cap.")
    elif status == "token_budget":
        ctx.out.info("The agent run stopped at its token budget.")


def analyze(ctx: Ctx) -> int:
    container = resolve.container(ctx, ctx.args.container)
    agents = bool(getattr(ctx.args, "agents", False))
    accepted = ctx.client.post("analyses/", {"container": container["id"], "agents": agents})
    printed: set[int] = set()
    if agents and not ctx.json and not ctx.args.detach and accepted.get("analysis"):
        ctx.out.text(f"Agents analysing {container['name']} (analysis {accepted['analysis']}):", style="bold")
        try:
            _stream_steps(ctx, int(accepted["analysis"]), printed)
        except KeyboardInterrupt:
            raise operations.Detached(operations.operation_id(accepted)) from None
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
        if analysis.get("mode") == "agents":
            _print_missing_steps(ctx, analysis, printed)
            _print_agent_status(ctx, analysis)
            ctx.out.text()
        _print(ctx, analysis)
    return 0 if analysis.get("status") == "succeeded" else 1


def register(sub, add) -> None:
    p = add(sub, "analyze", analyze, "Explain why a container misbehaves: findings with evidence (follows the operation)",
            aliases=["troubleshoot"])
    p.add_argument("container", metavar="CONTAINER").completer = container_names
    p.add_argument("--host", help="Host name or id, when names repeat")
    p.add_argument("--agents", action="store_true",
                   help="Run the coordinator and its specialised agents; print each step (agent, tool, output) as it runs")
    p.add_argument("-d", "--detach", action="store_true")
