"""Turn what a user types (an id, a name, a docker id prefix, an image reference) into the
API's object, or a NotFound (exit 3) / an ambiguity error (exit 1) naming the candidates."""

from __future__ import annotations

from .context import Ctx
from .errors import CliError, NotFound

MIN_ID_PREFIX = 3


def _by_pk(ctx: Ctx, path: str, ref: str) -> dict | None:
    if not ref.isdigit():
        return None
    try:
        return ctx.client.get(f"{path}{int(ref)}/")
    except NotFound:
        return None


def _one(kind: str, ref: str, matches: list[dict], describe) -> dict:
    if not matches:
        raise NotFound(f"No such {kind}: {ref}")
    if len(matches) > 1:
        names = ", ".join(describe(m) for m in matches[:10])
        raise CliError(f"{ref!r} matches several {kind}s ({names}): give an id or --host.")
    return matches[0]


def _host_filter(ctx: Ctx) -> dict:
    host = getattr(ctx.args, "host", None)
    return {"host": host_id(ctx, host)} if host else {}


def host(ctx: Ctx, ref: str) -> dict:
    found = _by_pk(ctx, "hosts/", ref)
    if found:
        return found
    rows = ctx.client.list("hosts/", {"search": ref})
    return _one("host", ref, [r for r in rows if r["name"] == ref], lambda r: f"{r['name']} (id {r['id']})")


def host_id(ctx: Ctx, ref: str | int) -> int:
    return int(ref) if str(ref).isdigit() else host(ctx, str(ref))["id"]


def container(ctx: Ctx, ref: str, detail: bool = False) -> dict:
    """By id, exact name, or docker id prefix; present containers only."""
    found = _by_pk(ctx, "containers/", ref)
    if found and not found.get("removed_at"):
        return found
    rows = ctx.client.list("containers/", {"q": ref, "removed": "hide", **_host_filter(ctx)})
    matches = [r for r in rows if r["name"] == ref.lstrip("/")]
    if not matches and len(ref) >= MIN_ID_PREFIX:
        matches = [r for r in rows if r["docker_id"].startswith(ref)]
    row = _one("container", ref, matches, lambda r: f"{r['name']} on {r['host_name']} (id {r['id']})")
    return ctx.client.get(f"containers/{row['id']}/") if detail else row


def _image_matches(row: dict, ref: str) -> bool:
    tags = row.get("repo_tags") or []
    wanted = {ref, f"{ref}:latest"}
    docker_id = row.get("docker_id", "")
    return bool(wanted & set(tags)) or (len(ref) >= MIN_ID_PREFIX and (
        docker_id.startswith(ref) or docker_id.removeprefix("sha256:").startswith(ref)))


def image(ctx: Ctx, ref: str) -> dict:
    found = _by_pk(ctx, "images/", ref)
    if found and not found.get("removed_at"):
        return found
    search = ref.removeprefix("sha256:")
    rows = ctx.client.list("images/", {"q": search, "removed": "hide", **_host_filter(ctx)})
    return _one("image", ref, [r for r in rows if _image_matches(r, ref)],
                lambda r: f"{(r.get('repo_tags') or [r['docker_id'][:19]])[0]} on {r['host_name']} (id {r['id']})")


def named(ctx: Ctx, kind: str, path: str, ref: str) -> dict:
    """Volumes, networks and stacks: by id or exact name (networks also by id prefix)."""
    found = _by_pk(ctx, path, ref)
    if found and not found.get("removed_at"):
        return found
    param = "search" if kind == "stack" else "q"
    params = {param: ref, **_host_filter(ctx)}
    if kind != "stack":
        params["removed"] = "hide"
    rows = ctx.client.list(path, params)
    matches = [r for r in rows if r["name"] == ref]
    if not matches and kind == "network" and len(ref) >= MIN_ID_PREFIX:
        matches = [r for r in rows if r.get("docker_id", "").startswith(ref)]
    return _one(kind, ref, matches, lambda r: f"{r['name']} on host {r.get('host_name', r.get('host'))} (id {r['id']})")


def by_name(ctx: Ctx, kind: str, path: str, ref: str) -> dict:
    """Objects with a `search` on their name and no mirror (alert rules, notification
    channels): by id or exact name."""
    found = _by_pk(ctx, path, ref)
    if found:
        return found
    rows = ctx.client.list(path, {"search": ref})
    return _one(kind, ref, [r for r in rows if r["name"] == ref],
                lambda r: f"{r['name']} (team {r.get('team')}, id {r['id']})")
