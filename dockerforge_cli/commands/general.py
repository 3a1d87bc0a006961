"""login, config (get, set, ls), operations (ls, watch, cancel), completion, version."""

from __future__ import annotations

import getpass
import socket
import sys

from .. import config, operations
from ..client import Client
from ..context import Ctx
from ..errors import UsageError
from ..output import STATE_STYLES, Column, relative_time


def client_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dockerforge")
    except PackageNotFoundError:
        return "unknown"


# --- login ------------------------------------------------------------------------------------

def login(ctx: Ctx) -> int:
    a = ctx.args
    url = a.url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UsageError("The server URL starts with http:// or https://")
    name = getattr(a, "profile", None) or config.DEFAULT_PROFILE
    client = Client(config.Profile(name=name, url=url, token=a.token or ""))
    username = ""
    if a.token:
        token = a.token
    else:
        username = a.username or _ask("Username: ")
        password = sys.stdin.readline().rstrip("\n") if a.password_stdin else getpass.getpass("Password: ")
        body = {"username": username, "password": password, "name": f"cli-{socket.gethostname()}"[:100]}
        token = client.request("POST", "auth/token/", body=body, auth=False)["token"]
    client.profile.token = token
    teams = client.list("teams/")  # proves the token works before it is stored
    path = config.store_profile(name, url, token, username, make_default=a.default)
    if ctx.json:
        ctx.out.json({"profile": name, "url": url, "username": username, "teams": teams, "config": str(path)})
    else:
        ctx.out.text(f"Logged in to {url} as profile {name!r} ({len(teams)} team(s)); saved in {path}.")
    return 0


def _ask(prompt: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError("Give --username (and --password-stdin) or --token when not on a terminal.")
    return input(prompt)


# --- config -----------------------------------------------------------------------------------

def _config_rows(data: dict) -> list[dict]:
    rows = [{"key": k, "value": data["settings"].get(k, ""), "scope": "setting"} for k in config.SETTINGS]
    for name, profile in sorted(data["profiles"].items()):
        for key in ("url", "team", "username"):
            rows.append({"key": f"{name}.{key}", "value": profile.get(key, ""), "scope": "profile"})
        rows.append({"key": f"{name}.token", "value": config.mask(profile.get("token", "")), "scope": "profile"})
    return rows


def config_ls(ctx: Ctx) -> int:
    data = config.load()
    rows = _config_rows(data)
    if ctx.json:
        ctx.out.json({"path": str(config.config_path()), "items": rows})
    else:
        ctx.out.info(str(config.config_path()))
        ctx.out.table([Column("KEY", lambda r: r["key"], style="bold"), Column("VALUE", lambda r: r["value"])], rows)
    return 0


def _split_key(ctx: Ctx, key: str, data: dict) -> tuple[str | None, str]:
    """`output` is a setting; `url` / `team` act on the current profile; `prof.url` on prof."""
    if key in config.SETTINGS:
        return None, key
    profile, _, field = key.rpartition(".")
    profile = profile or config.profile_name(data, getattr(ctx.args, "profile", None))
    if field not in (*config.PROFILE_KEYS, "token", "username"):
        raise UsageError(f"Unknown key {key!r}: settings are {', '.join(config.SETTINGS)}; profile keys are "
                         f"{', '.join(config.PROFILE_KEYS)}")
    return profile, field


def config_get(ctx: Ctx) -> int:
    data = config.load()
    profile, field = _split_key(ctx, ctx.args.key, data)
    if profile is None:
        value = data["settings"].get(field, "")
    else:
        value = (data["profiles"].get(profile) or {}).get(field, "")
        value = config.mask(value) if field == "token" else value
    ctx.out.json({"key": ctx.args.key, "value": value}) if ctx.json else ctx.out.text(str(value))
    return 0


def config_set(ctx: Ctx) -> int:
    data = config.load()
    key, value = ctx.args.key, ctx.args.value
    profile, field = _split_key(ctx, key, data)
    if profile is None:
        allowed = config.SETTINGS[field]
        if allowed and value not in allowed:
            raise UsageError(f"{field} is one of {', '.join(allowed)}")
        if field == "default_profile" and value not in data["profiles"]:
            raise UsageError(f"No profile named {value!r}")
        data["settings"][field] = value
    else:
        if field not in config.PROFILE_KEYS:
            raise UsageError(f"{field} is set by `dockerforge login`")
        if field == "team" and value and not value.isdigit():
            raise UsageError("team is a team id (see the teams list in `dockerforge login --json`)")
        data["profiles"].setdefault(profile, {})[field] = value.rstrip("/") if field == "url" else value
    config.save(data)
    ctx.out.json({"key": key, "value": value}) if ctx.json else ctx.out.text(f"{key} = {value}")
    return 0


# --- operations -------------------------------------------------------------------------------

OPERATION_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("KIND", lambda r: r["kind"], no_wrap=True),
    Column("TARGET", lambda r: r.get("target_name")),
    Column("STATUS", lambda r: r["status"], no_wrap=True),
    Column("PROGRESS", lambda r: f"{float(r.get('progress') or 0) * 100:.0f}%", justify="right"),
    Column("BY", lambda r: r.get("created_by")),
    Column("CREATED", lambda r: relative_time(r.get("created_at")), no_wrap=True),
]


def operations_ls(ctx: Ctx) -> int:
    params = {"status": ctx.args.status, **ctx.team_param()}
    rows = ctx.client.list("operations/", params, limit=ctx.args.limit)
    ctx.out.json(rows) if ctx.json else ctx.out.table(OPERATION_COLUMNS, rows, empty="No operations.")
    return 0


def operations_watch(ctx: Ctx) -> int:
    op = operations.watch(ctx, ctx.args.id)
    if ctx.json:
        ctx.out.json(op)
    else:
        style = STATE_STYLES.get(op["status"], "")
        ctx.out.text(f"Operation {op['id']} ({op['kind']} {op.get('target_name', '')}): {op['status']}", style=style)
        if op.get("error"):
            ctx.out.error(op["error"])
    return 1 if op["status"] in ("failed", "cancelled") else 0


def operations_cancel(ctx: Ctx) -> int:
    op = ctx.client.post(f"operations/{ctx.args.id}/cancel/")
    ctx.out.json(op) if ctx.json else ctx.out.text(f"Cancel requested for operation {op['id']} ({op['status']}).")
    return 0


# --- completion, version ---------------------------------------------------------------------

def completion(ctx: Ctx) -> int:
    from ..completion import shellcode

    sys.stdout.write(shellcode(ctx.args.shell))
    return 0


def version(ctx: Ctx) -> int:
    info = {"client": client_version(), "python": sys.version.split()[0]}
    profile = config.resolve(getattr(ctx.args, "profile", None), ctx.settings)
    if profile.url:
        info["server"] = {"url": profile.url, "profile": profile.name}
        info["server"].update(_server_version(Client(profile, timeout=5)))
    if ctx.json:
        ctx.out.json(info)
    else:
        ctx.out.text(f"dockerforge {info['client']} (Python {info['python']})")
        if "server" in info:
            server = info["server"]
            about = f" {server['version']} (Python {server.get('python')}, Django {server.get('django')})" if server.get("version") else ""
            ctx.out.text(f"server {server['url']} ({server['profile']}): {server['status']}{about}")
            feed = server.get("release_feed") or {}
            if feed.get("status") == "update":
                ctx.out.text(f"a newer release is out: {feed.get('latest')} {feed.get('url') or ''}".rstrip())
    return 0


def _server_version(client: Client) -> dict:
    """Health (no token needed), then `version/` (the token's; a refused one only loses it)."""
    try:
        health = client.request("GET", "/healthz", auth=False)
    except Exception as exc:  # noqa: BLE001 - version still answers with the server down
        return {"status": f"unreachable ({getattr(exc, 'message', exc)})"}
    info = {"status": health.get("status") if isinstance(health, dict) else "?"}
    try:
        about = client.get("version/")
    except Exception as exc:  # noqa: BLE001
        return {**info, "version_error": getattr(exc, "message", str(exc))}
    if isinstance(about, dict):
        info.update({k: about.get(k) for k in ("version", "python", "django", "release_feed")})
    return info


def register(sub, add) -> None:
    p = add(sub, "login", login, "Log in to a server and store the profile (token) in your config dir")
    p.add_argument("url", metavar="URL", help="e.g. https://dockerforge.example.com")
    p.add_argument("-u", "--username")
    p.add_argument("--password-stdin", action="store_true", help="Read the password from standard input")
    p.add_argument("--token", help="Use this API token instead of a password")
    p.add_argument("--default", action="store_true", help="Make this profile the default")

    group = add(sub, "config", None, "Client settings and profiles: get, set, ls")
    csub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    add(csub, "ls", config_ls, "Show settings and profiles (tokens masked)", aliases=["list"])
    p = add(csub, "get", config_get, "Show one value")
    p.add_argument("key", help=f"{', '.join(config.SETTINGS)}, or [PROFILE.]{'|'.join(config.PROFILE_KEYS)}")
    p = add(csub, "set", config_set, "Change one value")
    p.add_argument("key")
    p.add_argument("value")

    group = add(sub, "operations", None, "Background operations: ls, watch, cancel", aliases=["ops"])
    osub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add(osub, "ls", operations_ls, "Recent operations", aliases=["list"])
    p.add_argument("--status", choices=("pending", "running", "succeeded", "failed", "cancelled"))
    p.add_argument("--team", help="Team id")
    p.add_argument("-n", "--limit", type=int, default=20)
    p = add(osub, "watch", operations_watch, "Follow an operation to its end (Ctrl-C detaches)")
    p.add_argument("id", type=int)
    p = add(osub, "cancel", operations_cancel, "Ask an operation to stop")
    p.add_argument("id", type=int)

    p = add(sub, "completion", completion, "Print the shell code for tab completion (eval it in your shell rc)")
    p.add_argument("shell", choices=("bash", "zsh"))
    add(sub, "version", version, "Client version (and the server's status and version)")
