"""backup: create (a volume, container, image or Compose stack; --incremental, --storage-target),
ls, verify ID [--drill [--host]], restore ID, export ID -o FILE, import FILE [--storage-target].
Each action that changes something follows its Operation."""

from __future__ import annotations

import contextlib
import os
import uuid

from .. import operations, resolve
from ..client import local_file_error
from ..completion import container_names, host_names
from ..context import Ctx
from ..errors import CliError, UsageError
from ..output import Column, human_size, relative_time

KINDS = ("volume", "container", "image", "stack")


def _verified(row: dict) -> str:
    if row.get("verify_ok") is None:
        return "-"
    return ("ok " if row["verify_ok"] else "FAILED ") + relative_time(row.get("verified_at"))


BACKUP_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("KIND", lambda r: r["kind"], no_wrap=True),
    Column("TARGET", lambda r: r["target_name"], style="bold"),
    Column("MODE", lambda r: r.get("mode") or "full", no_wrap=True),
    Column("STATUS", lambda r: r["status"], no_wrap=True),
    Column("SIZE", lambda r: human_size(r.get("size")), justify="right", no_wrap=True),
    Column("ENCRYPTED", lambda r: r.get("encrypted")),
    Column("VERIFIED", _verified, no_wrap=True),
    Column("CREATED", lambda r: relative_time(r.get("created_at")), no_wrap=True),
    Column("HOST", lambda r: r.get("host"), justify="right"),
    Column("STORAGE", lambda r: r.get("storage_target_name") or "local", no_wrap=True),
]


def _storage_target(ctx: Ctx, ref: str | None) -> int | None:
    """--storage-target NAME|ID: the id of one of the user's storage targets."""
    if not ref:
        return None
    return int(resolve.by_name(ctx, "storage target", "backup-storage-targets/", ref)["id"])


def _target_names(ctx: Ctx) -> dict[int, str]:
    return {r["id"]: r["name"] for r in ctx.client.list("backup-storage-targets/")}


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
    if kind == "stack":
        return resolve.named(ctx, "stack", "compose-projects/", ref)["host"]
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
            "include_volumes": a.include_volumes, "incremental": a.incremental,
            "storage_target": _storage_target(ctx, a.storage_target), **ctx.team_param()}
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
        where = f" in storage target {a.storage_target}" if a.storage_target else ""
        ctx.out.text(f"Backup {backup['id']} ({backup.get('mode', 'full')}) of {kind} {backup['target_name']}: "
                     f"{human_size(backup.get('size'))}{', encrypted' if backup.get('encrypted') else ''} in {backup.get('folder')}{where}.")
    return 0


def ls(ctx: Ctx) -> int:
    a = ctx.args
    params = {"kind": a.kind, "status": a.status, "search": a.name, "ordering": "-created_at", **ctx.team_param()}
    if a.host:
        params["host"] = resolve.host_id(ctx, a.host)
    rows = ctx.client.list("backups/", params, limit=a.limit)
    if any(r.get("storage_target") for r in rows):
        names = _target_names(ctx)
        for r in rows:
            target = r.get("storage_target")
            r["storage_target_name"] = names.get(target, f"#{target}") if target else None
    ctx.out.json(rows) if ctx.json else ctx.out.table(BACKUP_COLUMNS, rows, empty="No backups.")
    return 0


def verify(ctx: Ctx) -> int:
    backup = ctx.client.get(f"backups/{ctx.args.id}/")
    drill = bool(getattr(ctx.args, "drill", False))
    body: dict = {"drill": drill}
    if ctx.args.host:
        if not drill:
            raise UsageError("--host names the restore drill's host: add --drill.")
        body["host"] = resolve.host_id(ctx, ctx.args.host)
    op = _finish(ctx, ctx.client.post(f"backups/{backup['id']}/verify/", body), f"verify backup {backup['id']}")
    if op is None:
        return 0
    backup = ctx.client.get(f"backups/{backup['id']}/")
    ok = op["status"] == "succeeded" and backup.get("verify_ok") is True
    if ctx.json:
        ctx.out.json({"backup": backup, "ok": ok, "operation": op})
    else:
        what = "every artifact and hash checked" + (", restore drill passed" if drill else "")
        ctx.out.text(f"Backup {backup['id']} ({backup['kind']} {backup['target_name']}): {what + ': ok' if ok else 'verification FAILED'}.")
    return 0 if ok else 1


def export(ctx: Ctx) -> int:
    """Stream the backup's portable file into -o FILE (written beside it, renamed when complete)."""
    a = ctx.args
    part = f"{a.output}.part"
    try:
        with open(part, "wb") as fh:
            ctx.client.request("GET", f"backups/{a.id}/export/", sink=fh.write, timeout=3600)
        os.replace(part, a.output)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(part)
        if isinstance(exc, OSError):  # opening, flushing or renaming the file here: not the server
            raise local_file_error(exc, "write") from None
        raise
    size = os.path.getsize(a.output)
    ctx.out.json({"backup": a.id, "file": a.output, "size": size}) if ctx.json else \
        ctx.out.text(f"Exported backup {a.id} to {a.output} ({human_size(size)}).")
    return 0


def _multipart(fields: dict[str, str], file_field: str, path: str) -> tuple[dict, int, object]:
    """A multipart/form-data body streamed from the file: (headers, length, chunks)."""
    boundary = uuid.uuid4().hex
    head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items() if v not in (None, ""))
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{os.path.basename(path)}"\r\n'
             "Content-Type: application/x-tar\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + os.path.getsize(path) + len(tail)

    def chunks():
        yield head
        with open(path, "rb") as fh:
            while data := fh.read(1024 * 1024):
                yield data
        yield tail

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length)}
    return headers, length, chunks()


def import_(ctx: Ctx) -> int:
    a = ctx.args
    if not os.path.isfile(a.file):
        raise CliError(f"No such file: {a.file}")
    key = ""
    if a.key:
        try:
            with open(a.key, encoding="utf-8") as fh:
                key = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"Cannot read the key file {a.key}: {getattr(exc, 'strerror', None) or exc}.") from None
    fields = {"key": key, "storage_target": _storage_target(ctx, a.storage_target), **ctx.team_param()}
    headers, _length, chunks = _multipart(fields, "file", a.file)
    backup = ctx.client.request("POST", "backups/import/", data=chunks, headers=headers, timeout=3600)
    where = f" into storage target {a.storage_target}" if a.storage_target else ""
    ctx.out.json(backup) if ctx.json else ctx.out.text(
        f"Imported backup {backup['id']} ({backup['kind']} {backup['target_name']}){where}: every hash checked.")
    return 0


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

    p = add(bsub, "create", create, "Back up a volume, a container, an image or a Compose stack (follows the operation)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--volume", metavar="NAME")
    target.add_argument("--container", metavar="NAME").completer = container_names
    target.add_argument("--image", metavar="REF")
    target.add_argument("--stack", metavar="NAME")
    p.add_argument("--host", help="Host name or id (default: where the mirror finds the target)").completer = host_names
    p.add_argument("--encrypt", action="store_true", help="Encrypt with the team's backup key")
    p.add_argument("--include-volumes", action="store_true", help="With --container: its named volumes too")
    p.add_argument("--incremental", action="store_true", help="With --volume: only the files changed since the last full backup")
    p.add_argument("--storage-target", metavar="NAME|ID", help="One of the team's storage targets (default: the local backup directory)")
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
    p.add_argument("--drill", action="store_true", help="Also restore into scratch objects, compare, and remove them")
    p.add_argument("--host", help="With --drill: drill on this host of the team (default: the backup's; needed for an imported backup)").completer = host_names
    p.add_argument("-d", "--detach", action="store_true")

    p = add(bsub, "restore", restore, "Restore a backup (overwriting an existing target needs the admin role)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--name", help="Restore under this name (default: the original)")
    p.add_argument("--host", help="Restore onto this host (default: the backup's)").completer = host_names
    p.add_argument("--overwrite", action="store_true", help="Replace an existing volume or container of that name")
    p.add_argument("--team", help="Team id")
    p.add_argument("-d", "--detach", action="store_true")

    p = add(bsub, "export", export, "Download one backup as a portable file (admins; never includes the key)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("-o", "--output", required=True, metavar="FILE")

    p = add(bsub, "import", import_, "Import a portable backup file into a team (admins; every hash is checked)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--key", metavar="KEYFILE", help="The exported team key (.json) for an encrypted backup")
    p.add_argument("--storage-target", metavar="NAME|ID", help="Keep it in this storage target of the team (default: local)")
    p.add_argument("--team", help="Team id")
