"""Following a server Operation (202 + its URL) to its end with a progress bar. Ctrl-C
detaches: the Operation keeps running and the message says how to reattach."""

from __future__ import annotations

import sys
import time

from .context import Ctx
from .errors import CliError

FINISHED = ("succeeded", "failed", "cancelled")
POLL_START, POLL_MAX = 0.2, 1.0


class Detached(Exception):
    def __init__(self, op_id: int):
        super().__init__(op_id)
        self.op_id = op_id


def operation_id(accepted: dict) -> int:
    try:
        return int(accepted["operation"])
    except (KeyError, TypeError, ValueError):
        raise CliError("The server did not return an operation id.") from None


def watch(ctx: Ctx, op_id: int, label: str = "") -> dict:
    """Poll `operations/{id}/` until it finishes; return the final Operation."""
    try:
        op = ctx.client.get(f"operations/{op_id}/")
        if op["status"] in FINISHED:
            return op
        if not ctx.json and sys.stderr.isatty():
            return _watch_with_bar(ctx, op, label)
        return _watch_quietly(ctx, op)
    except KeyboardInterrupt:
        raise Detached(op_id) from None


def _poll(ctx: Ctx, op: dict, delay: float) -> tuple[dict, float]:
    time.sleep(delay)
    return ctx.client.get(f"operations/{op['id']}/"), min(delay * 1.5, POLL_MAX)


def _new_log(op: dict, printed: int) -> tuple[list[str], int]:
    lines = (op.get("log") or "").splitlines()
    return lines[printed:], len(lines)


def _watch_quietly(ctx: Ctx, op: dict) -> dict:
    delay, printed = POLL_START, 0
    while op["status"] not in FINISHED:
        if not ctx.json:
            new, printed = _new_log(op, printed)
            for line in new:
                ctx.out.info(line)
        op, delay = _poll(ctx, op, delay)
    return op


def _watch_with_bar(ctx: Ctx, op: dict, label: str) -> dict:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    description = label or op.get("kind") or "operation"
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), TextColumn("{task.fields[status]}"), console=ctx.out.err_console,
                  transient=True) as progress:
        task = progress.add_task(f"#{op['id']} {description}", total=1.0, status=op["status"])
        delay, printed = POLL_START, 0
        while op["status"] not in FINISHED:
            new, printed = _new_log(op, printed)
            for line in new:
                progress.console.print(line, style="dim", markup=False)
            progress.update(task, completed=float(op.get("progress") or 0), status=op["status"])
            op, delay = _poll(ctx, op, delay)
        progress.update(task, completed=1.0, status=op["status"])
    return op


def follow(ctx: Ctx, accepted: dict, label: str = "") -> dict:
    """After a 202: watch the Operation unless --detach (then return what the server said)."""
    op_id = operation_id(accepted)
    if getattr(ctx.args, "detach", False):
        if not ctx.json:
            ctx.out.info(f"Operation {op_id} started; watch it with `dockerforge operations watch {op_id}`.")
        return {"id": op_id, "status": accepted.get("status", "pending"), "url": accepted.get("url")}
    return watch(ctx, op_id, label)


def check(op: dict) -> None:
    """A failed or cancelled Operation ends the command with exit 1 and its error."""
    status = op.get("status")
    if status == "failed":
        raise CliError(f"Operation {op['id']} ({op.get('kind', '')}) failed: {op.get('error') or 'no detail'}")
    if status == "cancelled":
        raise CliError(f"Operation {op['id']} ({op.get('kind', '')}) was cancelled.")
