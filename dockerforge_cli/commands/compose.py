"""compose: ls, validate FILE (offline, no server), up, down, logs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .. import operations, resolve
from ..completion import stack_names
from ..context import Ctx
from ..errors import UsageError
from ..output import Column, relative_time

STACK_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("NAME", lambda r: r["name"], style="bold"),
    Column("SERVICES", lambda r: len(r.get("services") or [])
           if not isinstance(r.get("services"), int) else r["services"], justify="right"),
    Column("SOURCE", lambda r: r.get("source")),
    Column("MANAGED", lambda r: r.get("managed")),
    Column("HOST", lambda r: r.get("host"), justify="right"),
    Column("LAST SEEN", lambda r: relative_time(r.get("last_seen_at")), no_wrap=True),
]


def ls(ctx: Ctx) -> int:
    params = dict(ctx.team_param())
    if ctx.args.host:
        params["host"] = resolve.host_id(ctx, ctx.args.host)
    rows = ctx.client.list("compose-projects/", params)
    ctx.out.json(rows) if ctx.json else ctx.out.table(STACK_COLUMNS, rows, empty="No stacks.")
    return 0


def validate(ctx: Ctx) -> int:
    """Offline: the server's own pure validation module, no request made."""
    from apps.compose import validation  # pure (no Django): imported only for this command

    path = Path(ctx.args.file)
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}") from None
    env_path = Path(ctx.args.env_file) if ctx.args.env_file else path.parent / ".env"
    env_file = env_path.read_text() if env_path.is_file() else None
    result = validation.validate(text, env=dict(os.environ), env_file=env_file)
    if ctx.json:
        ctx.out.json({"file": str(path), **result.as_dict()})
        return 0 if result.ok else 1
    for issue in [*result.errors, *result.warnings]:
        where = f"{path}:{issue.line}:{issue.column}" if issue.line else str(path)
        at = f" (at {issue.path})" if issue.path else ""
        stream = sys.stderr if issue.severity == "error" else sys.stdout
        stream.write(f"{where}: {issue.severity}: line {issue.line}, column {issue.column}: {issue.message}{at}\n"
                     if issue.line else f"{where}: {issue.severity}: {issue.message}{at}\n")
    if result.ok:
        ctx.out.text(f"{path}: valid" + (f" ({len(result.warnings)} warnings)" if result.warnings else ""))
    return 0 if result.ok else 1


def _operate(name: str, body_of):
    def run(ctx: Ctx) -> int:
        stack = resolve.named(ctx, "stack", "compose-projects/", ctx.args.stack)
        op = operations.follow(ctx, ctx.client.post(f"compose-projects/{stack['id']}/{name}/", body_of(ctx.args)),
                               f"{name} {stack['name']}")
        if ctx.json:
            ctx.out.json(op)
            return 1 if op.get("status") in ("failed", "cancelled") else 0
        operations.check(op)
        ctx.out.text(f"{stack['name']}: {name} {op['status']}")
        return 0

    return run


def logs(ctx: Ctx) -> int:
    stack = resolve.named(ctx, "stack", "compose-projects/", ctx.args.stack)
    result = ctx.client.get(f"compose-projects/{stack['id']}/logs/", {"tail": ctx.args.tail})
    if ctx.json:
        ctx.out.json(result)
        return 0
    for line in result.get("lines", []):
        sys.stdout.write("".join(ch if ch >= " " or ch == "\t" else "\ufffd" for ch in line) + "\n")
    return 0


def register(sub, add) -> None:
    group = add(sub, "compose", None, "Compose stacks: ls, validate, up, down, logs", aliases=["stacks"])
    csub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add(csub, "ls", ls, "List stacks", aliases=["list"])
    p.add_argument("--host", help="Host name or id")
    p.add_argument("--team", help="Team id")
    p = add(csub, "validate", validate, "Validate a Compose file offline (no server needed)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--env-file", help="Variables file (default: .env beside FILE)")
    for name, text, body_of in (
        ("up", "`up -d` a stack (follows the operation)", lambda a: {"pull": a.pull, "build": a.build}),
        ("down", "`down` a stack", lambda a: {"volumes": a.volumes}),
    ):
        p = add(csub, name, _operate(name, body_of), text)
        p.add_argument("stack", metavar="STACK", help="Name or id").completer = stack_names
        p.add_argument("--host", help="Host name or id, when names repeat")
        p.add_argument("-d", "--detach", action="store_true", help="Do not wait for the operation")
        if name == "up":
            p.add_argument("--pull", action="store_true", help="Pull images first")
            p.add_argument("--build", action="store_true", help="Build images first")
        else:
            p.add_argument("-v", "--volumes", action="store_true", help="Also remove the stack's volumes")
    p = add(csub, "logs", logs, "The stack's last lines, every service")
    p.add_argument("stack", metavar="STACK").completer = stack_names
    p.add_argument("--host", help="Host name or id, when names repeat")
    p.add_argument("-n", "--tail", default="200")
