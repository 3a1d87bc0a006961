"""backup: create (a volume, container or image), ls, verify ID, restore ID. Each action that
changes something follows its Operation."""

from __future__ import annotations

from .. import operations, resolve
from ..completion import container_names, host_names
from ..context import Ctx
from ..errors import CliError
from ..output import Column, human_size, relative_time

KINDS = ("volume", "container", "image")


def _verified(row: dict) -> str:
    if row.get("verify_ok") is None:
        return "-"
    return ("ok " if row["verify_ok"] else "FAILED ") + relative_time(row.get("verified_at"))


BACKUP_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("KIND", lambda r: r["kind"], no_wrap=True),
    Column("TARGET", lambda r: r["target_name"], style="bold"),
    Column("STATUS", lambda r: r["status"], no_wrap=True),
    Column("SIZE", lambda r: human_size(r.get("size")), justify="right", no_wrap=True),
    Column("ENCRYPTED", lambda r: r.get("encrypted")),
    Column("VERIFIED", _verified, no_wrap=True),
    Column("CREATED", lambda r: relative_time(r.get("created_at")), no_wrap=True),
    Column("HOST", lambda r: r.get("host"), justify="right"),
]


def _target(ctx: Ctx) -> tuple[str, str]:
    a = ctx.args
    kind = next(k for k in KINDS if getattr(a, k))
    return kind, getattr(a, kind)


def _host_of(ctx: Ctx, kind: str, ref: str) -> int:
    """--host wins (the engine resolves the name then); else the mirror says where it lives."""
    if ctx.args.host:
        return resolve.host_id(ctx, ctx.args.host)
    if kind == "container":
        return resolve.container(ctx, ref)["host"]
    if kind == "image":
        return resolve.image(ctx, ref)["host"]
    return resolve.named(ctx, "volume", "volumes/", ref)["host"]


def _finish(ctx: Ctx, accepted: dict, label: str) -> dict | None:
    """Follow the operation; None when --detach left it running (then it is printed)."""
    op = operations.follow(ctx, accepted, label)
    if getattr(ctx.args, "detach", False):
        ctx.out.json(op) if ctx.json else None
        return None
    if not ctx.json:
        operations.check(op)
    return op


def _result_id(op: dict, key: str) -> int:
    value = (op.get("result") or {}).get(key)
    if not value:
        raise CliError(f"Operation {op['id']} ({op.get('kind', '')}) {op['status']}: {op.get('error') or 'no ' + key}")
    return int(value)


def create(ctx: Ctx) -> int:
    a = ctx.args
    kind, ref = _target(ctx)
    body = {"host": _host_of(ctx, kind, ref), "kind": kind, "target": ref, "encrypt": a.encrypt,
            "include_volumes": a.include_volumes, **ctx.team_param()}
    op = _finish(ctx, ctx.client.post("backups/", body), f"backup {kind} {ref}")
    if op is None:
        return 0
    if op["status"] != "succeeded":  # --json only: check() raised otherwise
        ctx.out.json({"backup": None, "operation": op})
        return 1
    backup = ctx.client.get(f"backups/{_result_id(op, 'backup')}/")
    if ctx.json:
        ctx.out.json({"backup": backup, "operation": op})
    else:
        ctx.out.text(f"Backup {backup['id']} of {kind} {backup['target_name']}: {human_size(backup.get('size'))}"
                     f"{', encrypted' if backup.get('encrypted') else ''} in {backup.get('folder')}.")
    return 0


def ls(ctx: Ctx) -> int:
    a = ctx.args
    params = {"kind": a.kind, "status": a.status, "search": a.name, "ordering": "-created_at", **ctx.team_param()}
    if a.host:
        params["host"] = resolve.host_id(ctx, a.host)
    rows = ctx.client.list("backups/", params, limit=a.limit)
    ctx.out.json(rows) if ctx.json else ctx.out.table(BACKUP_COLUMNS, rows, empty="No backups.")
    return 0


def verify(ctx: Ctx) -> int:
    backup = ctx.client.get(f"backups/{ctx.args.id}/")
    op = _finish(ctx, ctx.client.post(f"backups/{backup['id']}/verify/"), f"verify backup {backup['id']}")
    if op is None:
        return 0
    backup = ctx.client.get(f"backups/{backup['id']}/")
    ok = op["status"] == "succeeded" and backup.get("verify_ok") is True
    if ctx.json:
        ctx.out.json({"backup": backup, "ok": ok, "operation": op})
    else:
        ctx.out.text(f"Backup {backup['id']} ({backup['kind']} {backup['target_name']}): "
                     f"{'every artifact and hash checked: ok' if ok else 'verification FAILED'}.")
    return 0 if ok else 1


def restore(ctx: Ctx) -> int:
    a = ctx.args
    backup = ctx.client.get(f"backups/{a.id}/")
    host = resolve.host_id(ctx, a.host) if a.host else backup["host"]
    body = {"backup": backup["id"], "host": host, "target": a.name or "", "overwrite": a.overwrite, **ctx.team_param()}
    accepted = ctx.client.post("restores/", body)
    op = _finish(ctx, accepted, f"restore backup {backup['id']}")
    if op is None:
        return 0
    row = ctx.client.get(f"restores/{accepted['restore']}/")
    if ctx.json:
        ctx.out.json({"restore": row, "result": op.get("result"), "operation": op})
    else:
        ctx.out.text(f"Restored backup {backup['id']} as {backup['kind']} {row['target_name']} on host {row['host']}.")
    return 0 if op["status"] == "succeeded" else 1


def register(sub, add) -> None:
    group = add(sub, "backup", None, "Backups: create, ls, verify, restore", aliases=["backups"])
    bsub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = add(bsub, "create", create, "Back up a volume, a container or an image (follows the operation)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--volume", metavar="NAME")
    target.add_argument("--container", metavar="NAME").completer = container_names
    target.add_argument("--image", metavar="REF")
    p.add_argument("--host", help="Host name or id (default: where the mirror finds the target)").completer = host_names
    p.add_argument("--encrypt", action="store_true", help="Encrypt with the team's backup key")
    p.add_argument("--include-volumes", action="store_true", help="With --container: its named volumes too")
    p.add_argument("--team", help="Team id")
    p.add_argument("-d", "--detach", action="store_true")

    p = add(bsub, "ls", ls, "List backups, newest first", aliases=["list"])
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--status", choices=("running", "completed", "failed"))
    p.add_argument("--host", help="Host name or id").completer = host_names
    p.add_argument("--name", "--filter", dest="name", help="Search target names")
    p.add_argument("--team", help="Team id")
    p.add_argument("-n", "--limit", type=int, default=50)

    p = add(bsub, "verify", verify, "Re-read every artifact and check every hash (exit 1 when it fails)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("-d", "--detach", action="store_true")

    p = add(bsub, "restore", restore, "Restore a backup (overwriting an existing target needs the admin role)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--name", help="Restore under this name (default: the original)")
    p.add_argument("--host", help="Restore onto this host (default: the backup's)").completer = host_names
    p.add_argument("--overwrite", action="store_true", help="Replace an existing volume or container of that name")
    p.add_argument("--team", help="Team id")
    p.add_argument("-d", "--detach", action="store_true")
