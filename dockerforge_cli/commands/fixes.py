"""fixes: ls (proposals of detectors and agents), approve ID (runs as an Operation through
recreate-with-rollback; the command follows it and says whether the fix was applied or rolled
back), reject ID. Approving and rejecting need the operator role (exit 4 otherwise); an
unknown id, or another team's, exits 3."""

from __future__ import annotations

import json

from .. import operations, resolve
from ..completion import container_names
from ..context import Ctx
from ..errors import CliError
from ..output import Column, relative_time

STATUSES = ("proposed", "approved", "applied", "rolled_back", "failed", "rejected")
KINDS = ("restart", "raise_memory", "recreate", "rollback_image")
RATIONALE_CHARS = 80


def _short(text: str, size: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _params(row: dict) -> str:
    return json.dumps(row.get("params") or {}, separators=(",", ":")) if row.get("params") else ""


FIX_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("STATUS", lambda r: r["status"], no_wrap=True),
    Column("FIX", lambda r: r.get("kind_display") or r["kind"], style="bold"),
    Column("PARAMS", _params),
    Column("CONTAINER", lambda r: r.get("container_name") or "-"),
    Column("WHY", lambda r: _short(r.get("rationale", ""), RATIONALE_CHARS)),
    Column("BY", lambda r: r.get("source") or "-"),
    Column("ANALYSIS", lambda r: r.get("analysis") or "-", justify="right"),
    Column("CREATED", lambda r: relative_time(r.get("created_at")), no_wrap=True),
]


def ls(ctx: Ctx) -> int:
    a = ctx.args
    params = {"ordering": "-created_at", **ctx.team_param()}
    if a.container:
        params["container"] = resolve.container(ctx, a.container)["id"]
    for key in ("status", "kind", "analysis"):
        if getattr(a, key, None):
            params[key] = getattr(a, key)
    rows = ctx.client.list("fixes/", params, limit=a.limit)
    ctx.out.json(rows) if ctx.json else ctx.out.table(FIX_COLUMNS, rows, empty="No fixes proposed.")
    return 0


def _describe(fix: dict) -> str:
    return f"Fix {fix['id']} ({fix.get('kind_display') or fix['kind']} for {fix.get('container_name') or 'a removed container'})"


def approve(ctx: Ctx) -> int:
    a = ctx.args
    body = {"health_seconds": a.health_seconds} if a.health_seconds is not None else {}
    accepted = ctx.client.post(f"fixes/{a.id}/approve/", body)
    op = operations.follow(ctx, accepted, f"fix {a.id}")
    if a.detach:
        ctx.out.json({**op, "fix": a.id}) if ctx.json else None
        return 0
    fix = ctx.client.get(f"fixes/{a.id}/")
    if ctx.json:
        ctx.out.json({**fix, "operation": op})
        return 0 if fix["status"] == "applied" else 1
    if fix["status"] == "applied":
        ctx.out.text(f"{_describe(fix)} applied and verified (operation {op['id']}).")
        return 0
    error = (fix.get("result") or {}).get("error") or op.get("error") or "no detail"
    if fix["status"] == "rolled_back":
        raise CliError(f"{_describe(fix)} failed verification and was rolled back to the old container: {error}")
    raise CliError(f"{_describe(fix)} {fix['status'].replace('_', ' ')}: {error}")


def reject(ctx: Ctx) -> int:
    fix = ctx.client.post(f"fixes/{ctx.args.id}/reject/")
    ctx.out.json(fix) if ctx.json else ctx.out.text(f"{_describe(fix)} rejected.")
    return 0


def register(sub, add) -> None:
    group = add(sub, "fixes", None, "Fixes the AI or a detector proposed: ls, approve ID, reject ID", aliases=["fix"])
    fsub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = add(fsub, "ls", ls, "List proposed fixes, newest first", aliases=["list"])
    p.add_argument("--container", metavar="CONTAINER", help="Container name or id").completer = container_names
    p.add_argument("--host", help="Host name or id, when container names repeat")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--analysis", type=int, metavar="ID")
    p.add_argument("--team", help="Team id")
    p.add_argument("-n", "--limit", type=int, default=100)

    p = add(fsub, "approve", approve, "Approve a proposed fix and follow it while it is applied (operators and admins)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--health-seconds", type=float, metavar="S", help="How long the fixed container must keep running")
    p.add_argument("-d", "--detach", action="store_true", help="Do not wait for the operation")

    p = add(fsub, "reject", reject, "Reject a proposed fix (operators and admins)")
    p.add_argument("id", type=int, metavar="ID")
