"""update: check [CONTAINER], apply CONTAINER [--to TAG], rollback CONTAINER. Each follows
its Operation. `update check` exits 0 when the check ran, whatever it found: a row in status
`error` says why (e.g. the image's registry cannot be reached)."""

from __future__ import annotations

from .. import operations, resolve
from ..completion import container_names
from ..context import Ctx
from ..errors import CliError
from ..output import Column, relative_time

STATUS_TEXT = {"up_to_date": "up to date", "available": "update available", "excluded": "excluded", "error": "error"}


def _found(row: dict) -> str:
    if row["status"] == "available":
        return row.get("target_ref") or row.get("newer_tag") or "new digest"
    return row.get("error") or ""


CHECK_COLUMNS = [
    Column("CONTAINER", lambda r: r.get("container_name"), style="bold", no_wrap=True),
    Column("IMAGE", lambda r: r.get("image_ref")),
    Column("STATUS", lambda r: STATUS_TEXT.get(r["status"], r["status"]), no_wrap=True),
    Column("TARGET / REASON", _found),
    Column("STRATEGY", lambda r: r.get("strategy"), no_wrap=True),
    Column("CHECKED", lambda r: relative_time(r.get("checked_at")), no_wrap=True),
]


def _follow(ctx: Ctx, accepted: dict, label: str) -> dict | None:
    op = operations.follow(ctx, accepted, label)
    if ctx.args.detach:
        ctx.out.json(op) if ctx.json else None
        return None
    operations.check(op)  # a failed check or run is exit 1, --json included (the error envelope)
    return op


def check(ctx: Ctx) -> int:
    a = ctx.args
    container = resolve.container(ctx, a.container) if a.container else None
    body = {"container": container["id"]} if container else dict(ctx.team_param())
    label = f"update check {container['name']}" if container else "update check"
    if _follow(ctx, ctx.client.post("update-checks/", body), label) is None:
        return 0
    params = {"container": container["id"]} if container else {**ctx.team_param(), "ordering": "status"}
    rows = ctx.client.list("update-checks/", params)
    if container and not rows:
        raise CliError(f"The check of {container['name']} stored no result.")
    if ctx.json:
        ctx.out.json(rows[0] if container else rows)
    else:
        ctx.out.table(CHECK_COLUMNS, rows, empty="No containers to check.")
    return 0


def target_ref(image: str, to: str) -> str:
    """--to TAG keeps the container's repository; anything with / or : is a whole reference
    (a tag holds neither)."""
    if "/" in to or ":" in to or "@" in to:
        return to
    repo = image.split("@", 1)[0]
    name_start = repo.rfind("/") + 1
    if ":" in repo[name_start:]:
        repo = repo[: name_start + repo[name_start:].index(":")]
    return f"{repo}:{to}"


def _run_of(ctx: Ctx, op: dict, container: dict) -> dict | None:
    run_id = (op.get("result") or {}).get("run")
    if run_id:
        return ctx.client.get(f"updates/{run_id}/")
    rows = ctx.client.list("updates/", {"container": container["id"], "ordering": "-created_at"}, limit=1)
    return rows[0] if rows else None


def _report_run(ctx: Ctx, run: dict | None, op: dict, verb: str) -> int:
    if ctx.json:
        ctx.out.json({"run": run, "operation": op})
    elif run:
        ctx.out.text(f"{verb} {run['container_name']}: {run['from_ref']} -> {run['to_ref']}: {run['status']}"
                     + (f" ({run['error']})" if run.get("error") else ""))
    return 0 if run and run["status"] == "succeeded" else 1


def apply(ctx: Ctx) -> int:
    a = ctx.args
    container = resolve.container(ctx, a.container)
    body = {"container": container["id"], "override": a.override}
    if a.to:
        body["target"] = target_ref(container["image"], a.to)
    if a.health_seconds is not None:
        body["health_seconds"] = a.health_seconds
    op = _follow(ctx, ctx.client.post("updates/", body), f"update {container['name']}")
    if op is None:
        return 0
    return _report_run(ctx, _run_of(ctx, op, container), op, "Updated")


def rollback(ctx: Ctx) -> int:
    container = resolve.container(ctx, ctx.args.container)
    runs = ctx.client.list("updates/", {"container": container["id"], "kind": "update", "status": "succeeded",
                                        "ordering": "-created_at"}, limit=1)
    if not runs:
        raise CliError(f"{container['name']} has no succeeded update to roll back.")
    op = _follow(ctx, ctx.client.post(f"updates/{runs[0]['id']}/rollback/"), f"rollback {container['name']}")
    if op is None:
        return 0
    return _report_run(ctx, _run_of(ctx, op, container), op, "Rolled back")


def register(sub, add) -> None:
    group = add(sub, "update", None, "Image updates: check, apply, rollback", aliases=["updates"])
    usub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add(usub, "check", check, "Ask the registry whether a container's image has an update (all when no CONTAINER)")
    p.add_argument("container", nargs="?", metavar="CONTAINER").completer = container_names
    p.add_argument("--host", help="Host name or id, when names repeat")
    p.add_argument("--team", help="Team id (checking every container)")
    p.add_argument("-d", "--detach", action="store_true")
    p = add(usub, "apply", apply, "Update a container to the checked target or --to TAG (health-checked, rolled back on failure)")
    p.add_argument("container", metavar="CONTAINER").completer = container_names
    p.add_argument("--to", metavar="TAG", help="A tag of the same repository, or a whole image reference")
    p.add_argument("--override", action="store_true", help="Admins: proceed despite the vulnerability gate")
    p.add_argument("--health-seconds", type=float, help="Seconds the new container must stay healthy")
    p.add_argument("--host", help="Host name or id, when names repeat")
    p.add_argument("-d", "--detach", action="store_true")
    p = add(usub, "rollback", rollback, "Roll a container back to the image it ran before its last update")
    p.add_argument("container", metavar="CONTAINER").completer = container_names
    p.add_argument("--host", help="Host name or id, when names repeat")
    p.add_argument("-d", "--detach", action="store_true")
