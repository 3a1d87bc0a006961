"""images (ls, pull, rm), volumes (ls, rm), networks (ls, rm). `dockerforge images` alone lists."""

from __future__ import annotations

from .. import operations, resolve
from ..context import Ctx
from ..output import Column, human_size, relative_time


def _tags(r: dict) -> str:
    return ", ".join(r.get("repo_tags") or []) or "<none>"


IMAGE_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("TAGS", _tags, style="bold"),
    Column("IMAGE ID", lambda r: r["docker_id"].removeprefix("sha256:")[:12], no_wrap=True),
    Column("SIZE", lambda r: human_size(r.get("size")), justify="right", no_wrap=True),
    Column("CREATED", lambda r: relative_time(r.get("engine_created_at")), no_wrap=True),
    Column("HOST", lambda r: r.get("host_name"), no_wrap=True),
]
VOLUME_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("NAME", lambda r: r["name"], style="bold"),
    Column("DRIVER", lambda r: r.get("driver"), no_wrap=True),
    Column("CREATED", lambda r: relative_time(r.get("engine_created_at")), no_wrap=True),
    Column("HOST", lambda r: r.get("host_name"), no_wrap=True),
]
NETWORK_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("NAME", lambda r: r["name"], style="bold"),
    Column("NETWORK ID", lambda r: r["docker_id"][:12], no_wrap=True),
    Column("DRIVER", lambda r: r.get("driver"), no_wrap=True),
    Column("SCOPE", lambda r: r.get("scope"), no_wrap=True),
    Column("INTERNAL", lambda r: r.get("internal")),
    Column("HOST", lambda r: r.get("host_name"), no_wrap=True),
]
KINDS = {
    "images": ("image", "images/", IMAGE_COLUMNS),
    "volumes": ("volume", "volumes/", VOLUME_COLUMNS),
    "networks": ("network", "networks/", NETWORK_COLUMNS),
}


def _list(group: str):
    kind, path, columns = KINDS[group]

    def ls(ctx: Ctx) -> int:
        a = ctx.args
        params = {"q": getattr(a, "name", None), "label": getattr(a, "label", None), "removed": "hide", **ctx.team_param()}
        if getattr(a, "host", None):
            params["host"] = resolve.host_id(ctx, a.host)
        if group == "images" and getattr(a, "dangling", False):
            params["dangling"] = "true"
        rows = ctx.client.list(path, params)
        ctx.out.json(rows) if ctx.json else ctx.out.table(columns, rows, empty=f"No {group}.")
        return 0

    return ls


def _find(ctx: Ctx, group: str, ref: str) -> dict:
    kind, path, _ = KINDS[group]
    return resolve.image(ctx, ref) if group == "images" else resolve.named(ctx, kind, path, ref)


def _describe(group: str, row: dict) -> str:
    return _tags(row) if group == "images" else row["name"]


def _remove(group: str):
    _, path, _ = KINDS[group]

    def rm(ctx: Ctx) -> int:
        failed = 0
        results = []
        for ref in ctx.args.refs:
            row = _find(ctx, group, ref)
            body = {"force": ctx.args.force} if group == "images" else {}
            op = operations.follow(ctx, ctx.client.post(f"{path}{row['id']}/remove/", body), f"remove {_describe(group, row)}")
            results.append({"id": row["id"], "name": _describe(group, row), "operation": op})
            if op.get("status") in ("failed", "cancelled"):
                failed += 1
                if not ctx.json:
                    ctx.out.error(f"{_describe(group, row)}: {op.get('error') or op['status']}")
            elif not ctx.json:
                ctx.out.text(f"{_describe(group, row)}: removed")
        if ctx.json:
            ctx.out.json(results)
        return 1 if failed else 0

    return rm


def pull(ctx: Ctx) -> int:
    host_id = resolve.host_id(ctx, ctx.args.host)
    op = operations.follow(ctx, ctx.client.post("images/pull/", {"host": host_id, "reference": ctx.args.reference}),
                           f"pull {ctx.args.reference}")
    if ctx.json:
        ctx.out.json(op)
        return 0 if op.get("status") in ("succeeded", "pending", "running") else 1
    operations.check(op)
    ctx.out.text(f"Pulled {ctx.args.reference}." if op.get("status") == "succeeded" else f"Operation {op['id']}: {op['status']}")
    return 0


def register(sub, add) -> None:
    for group, (kind, _path, _cols) in KINDS.items():
        ls = _list(group)
        g = add(sub, group, ls, f"{kind.capitalize()}s: ls, rm{', pull' if group == 'images' else ''} (alone: ls)",
                aliases=[kind])
        gsub = g.add_subparsers(dest="action", metavar="ACTION")
        p = add(gsub, "ls", ls, f"List {group}", aliases=["list"])
        p.add_argument("--host", help="Host name or id")
        p.add_argument("--name", "--filter", dest="name", help="Search")
        p.add_argument("--label", help="key=value or key")
        p.add_argument("--team", help="Team id")
        if group == "images":
            p.add_argument("--dangling", action="store_true", help="Untagged only")
        p = add(gsub, "rm", _remove(group), f"Remove {group}", aliases=["remove"])
        p.add_argument("refs", nargs="+", metavar=kind.upper())
        p.add_argument("--host", help="Host name or id, when names repeat")
        p.add_argument("-d", "--detach", action="store_true")
        if group == "images":
            p.add_argument("-f", "--force", action="store_true")
            p = add(gsub, "pull", pull, "Pull an image on a host (follows the operation)")
            p.add_argument("reference", help="e.g. 127.0.0.1:5000/demo/app:1.0")
            p.add_argument("--host", required=True, help="Host name or id")
            p.add_argument("-d", "--detach", action="store_true")
