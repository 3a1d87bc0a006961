"""hosts: ls, add, test, sync, rm."""

from __future__ import annotations

from pathlib import Path

from .. import operations, resolve
from ..completion import host_names
from ..context import Ctx
from ..errors import UsageError
from ..output import Column, relative_time

HOST_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("NAME", lambda r: r["name"], style="bold", no_wrap=True),
    Column("URL", lambda r: r["url"]),
    Column("STATUS", lambda r: r["status"], no_wrap=True),
    Column("ENGINE", lambda r: r.get("engine_version")),
    Column("LAST SEEN", lambda r: relative_time(r.get("last_seen_at")), no_wrap=True),
    Column("TEAM", lambda r: r.get("team"), justify="right"),
]


def ls(ctx: Ctx) -> int:
    rows = ctx.client.list("hosts/", ctx.team_param())
    ctx.out.json(rows) if ctx.json else ctx.out.table(HOST_COLUMNS, rows, empty="No hosts: add one with `dockerforge hosts add NAME URL`.")
    return 0


def _read(path: str | None) -> str:
    if not path:
        return ""
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}") from None


def add(ctx: Ctx) -> int:
    a = ctx.args
    body = {"name": a.name, "url": a.url, "description": a.description or "", **ctx.team_param()}
    for field, path in (("tls_ca_cert", a.tls_ca), ("tls_client_cert", a.tls_cert), ("tls_client_key", a.tls_key),
                        ("ssh_private_key", a.ssh_key)):
        if path:
            body[field] = _read(path)
    host = ctx.client.post("hosts/", body)
    sync = None
    if not a.no_sync:
        op = operations.follow(ctx, ctx.client.post(f"hosts/{host['id']}/sync/"), f"sync {host['name']}")
        sync = op
        host = ctx.client.get(f"hosts/{host['id']}/")
    if ctx.json:
        ctx.out.json({**host, "sync": sync} if sync else host)
    else:
        ctx.out.text(f"Host {host['name']} added (id {host['id']}, {host['status']}).")
        if sync and sync.get("status") != "succeeded":
            ctx.out.error(f"The first sync {sync['status']}: {sync.get('error') or ''}")
    return 0 if not sync or sync.get("status") == "succeeded" else 1


def test(ctx: Ctx) -> int:
    host = resolve.host(ctx, ctx.args.host)
    result = ctx.client.post(f"hosts/{host['id']}/test/")
    if ctx.json:
        ctx.out.json(result)
    elif result.get("ok"):
        info = result.get("info") or {}
        version = info.get("ServerVersion") or info.get("server_version") or info.get("version") or ""
        ctx.out.text(f"{host['name']}: ok in {result.get('elapsed', 0):.2f}s {version}".rstrip())
    else:
        ctx.out.error(f"{host['name']}: {result.get('error') or result.get('status')}")
    return 0 if result.get("ok") else 1


def sync(ctx: Ctx) -> int:
    host = resolve.host(ctx, ctx.args.host)
    op = operations.follow(ctx, ctx.client.post(f"hosts/{host['id']}/sync/"), f"sync {host['name']}")
    if ctx.json:
        ctx.out.json(op)
    else:
        operations.check(op)
        ctx.out.text(f"{host['name']}: synced.")
    return 0 if op.get("status") in ("succeeded", "pending", "running") else 1


def rm(ctx: Ctx) -> int:
    host = resolve.host(ctx, ctx.args.host)
    if not ctx.args.yes:
        raise UsageError(f"Removing host {host['name']} forgets its containers, stacks and history here: add --yes.")
    ctx.client.delete(f"hosts/{host['id']}/")
    ctx.out.json({"removed": host["id"], "name": host["name"]}) if ctx.json else ctx.out.text(f"Host {host['name']} removed.")
    return 0


def register(sub, add_command) -> None:
    group = add_command(sub, "hosts", None, "Docker hosts: ls, add, test, sync, rm", aliases=["host"])
    hsub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add_command(hsub, "ls", ls, "List hosts", aliases=["list"])
    p.add_argument("--team", help="Team id")
    p = add_command(hsub, "add", add, "Register a host (then sync it)")
    p.add_argument("name")
    p.add_argument("url", help="unix:///var/run/docker.sock, tcp://HOST:2376 or ssh://user@HOST")
    p.add_argument("--description")
    p.add_argument("--team", help="Team id (needed when you belong to several)")
    p.add_argument("--tls-ca", metavar="FILE")
    p.add_argument("--tls-cert", metavar="FILE")
    p.add_argument("--tls-key", metavar="FILE")
    p.add_argument("--ssh-key", metavar="FILE")
    p.add_argument("--no-sync", action="store_true", help="Do not mirror its containers now")
    p.add_argument("-d", "--detach", action="store_true", help="Do not wait for the first sync")
    for name, func, text in (("test", test, "Connect now and report"), ("sync", sync, "Refresh the mirror now"),
                             ("rm", rm, "Remove a host")):
        p = add_command(hsub, name, func, text, aliases=["remove"] if name == "rm" else [])
        p.add_argument("host", metavar="HOST", help="Name or id").completer = host_names
        if name == "sync":
            p.add_argument("-d", "--detach", action="store_true")
        if name == "rm":
            p.add_argument("-y", "--yes", action="store_true", help="Confirm")
