"""ps / containers: ls, inspect, start, stop, restart, rm, logs (-f), exec, stats."""

from __future__ import annotations

import sys
import time

from .. import operations, resolve
from ..completion import container_names
from ..context import Ctx
from ..errors import CliError
from ..output import Column, human_size, relative_time

STATES = ("created", "running", "paused", "restarting", "removing", "exited", "dead")


def _ports(row: dict) -> str:
    ports = row.get("ports") or []
    out = []
    for p in ports if isinstance(ports, list) else []:
        if isinstance(p, dict):
            public = p.get("PublicPort") or p.get("public_port") or p.get("host_port")
            private = p.get("PrivatePort") or p.get("private_port") or p.get("container_port")
            proto = p.get("Type") or p.get("proto") or "tcp"
            out.append(f"{public}->{private}/{proto}" if public else f"{private}/{proto}")
        else:
            out.append(str(p))
    return ", ".join(dict.fromkeys(out))


def _state(row: dict) -> str:
    state = row.get("state") or ""
    if row.get("health"):
        state += f" ({row['health']})"
    return state


CONTAINER_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("NAME", lambda r: r["name"], style="bold", no_wrap=True),
    Column("IMAGE", lambda r: r["image"]),
    Column("STATE", _state, no_wrap=True),
    Column("STATUS", lambda r: r.get("status")),
    Column("CREATED", lambda r: relative_time(r.get("engine_created_at")), no_wrap=True),
    Column("PORTS", _ports),
    Column("HOST", lambda r: r.get("host_name"), no_wrap=True),
]


def ls(ctx: Ctx) -> int:
    a = ctx.args
    params = {
        "state": a.state or (None if a.all else "running"),
        "label": a.label, "image": a.image, "stack": a.stack, "q": a.name,
        "removed": "all" if a.removed else "hide",
        **ctx.team_param(),
    }
    if a.host:
        params["host"] = resolve.host_id(ctx, a.host)
    rows = ctx.client.list("containers/", params, limit=a.limit)
    if ctx.json:
        ctx.out.json(rows)
    elif a.quiet:
        for row in rows:
            ctx.out.text(str(row["id"]))
    else:
        ctx.out.table(CONTAINER_COLUMNS, rows, empty="No containers (use -a for stopped ones).")
    return 0


def inspect(ctx: Ctx) -> int:
    rows = [resolve.container(ctx, ref, detail=True) for ref in ctx.args.containers]
    if ctx.json or ctx.args.raw:
        ctx.out.json(rows if len(rows) > 1 else rows[0])
        return 0
    for row in rows:
        ctx.out.fields([
            ("ID", row["id"]), ("Name", row["name"]), ("Docker ID", row["docker_id"][:12]),
            ("Host", row.get("host_name")), ("Image", row["image"]), ("State", _state(row)),
            ("Status", row.get("status")), ("Created", relative_time(row.get("engine_created_at"))),
            ("Started", relative_time(row.get("started_at"))), ("Restarts", row.get("restart_count")),
            ("Exit code", row.get("exit_code")), ("Ports", _ports(row)),
            ("Networks", ", ".join(row.get("networks") or {}) if isinstance(row.get("networks"), dict) else row.get("networks")),
            ("Stack", row.get("compose_project")),
            ("Labels", ", ".join(f"{k}={v}" for k, v in (row.get("labels") or {}).items())),
        ])
        ctx.out.text("")
    return 0


def _lifecycle(ctx: Ctx, action: str, body: dict, done: str) -> int:
    results, failed = [], []
    for ref in ctx.args.containers:
        row = resolve.container(ctx, ref)
        accepted = ctx.client.post(f"containers/{row['id']}/{action}/", body)
        op = operations.follow(ctx, accepted, f"{action} {row['name']}")
        results.append({"container": row["id"], "name": row["name"], "operation": op})
        if op.get("status") in ("failed", "cancelled"):
            failed.append(op)
        elif not ctx.json:
            ctx.out.text(f"{row['name']}: {done}" if op.get("status") == "succeeded" else f"{row['name']}: operation {op['id']} {op['status']}")
    if ctx.json:
        ctx.out.json(results)
    for op in failed:
        if not ctx.json:
            ctx.out.error(f"Operation {op['id']} failed: {op.get('error') or op['status']}")
    return 1 if failed else 0


def start(ctx: Ctx) -> int:
    return _lifecycle(ctx, "start", {}, "started")


def stop(ctx: Ctx) -> int:
    body = {"timeout": ctx.args.time} if ctx.args.time is not None else {}
    return _lifecycle(ctx, "stop", body, "stopped")


def restart(ctx: Ctx) -> int:
    body = {"timeout": ctx.args.time} if ctx.args.time is not None else {}
    return _lifecycle(ctx, "restart", body, "restarted")


def rm(ctx: Ctx) -> int:
    return _lifecycle(ctx, "remove", {"force": ctx.args.force, "volumes": ctx.args.volumes}, "removed")


def _clean(text: str) -> str:
    """Logs are untrusted: no control characters reach the terminal (tabs stay)."""
    return "".join(ch if ch >= " " or ch == "\t" else "\ufffd" for ch in text.rstrip("\r\n"))


def _print_line(ctx: Ctx, ts: str, stream: str, text: str) -> None:
    if ctx.json:
        ctx.out.json_line({"ts": ts, "stream": stream, "text": text})
        return
    line = _clean(text)
    if ctx.args.timestamps and ts:
        line = f"{ts} {line}"
    (sys.stderr if stream == "stderr" else sys.stdout).write(line + "\n")


def _log_query(ctx: Ctx) -> dict:
    a = ctx.args
    tail = a.tail if a.tail is not None else ("10" if getattr(a, "follow", False) else None)
    return {"tail": tail, "since": a.since, "until": getattr(a, "until", None), "q": a.grep,
            "stream": a.stream if a.stream != "all" else None}


def logs(ctx: Ctx) -> int:
    row = resolve.container(ctx, ctx.args.container)
    if ctx.args.follow:
        from ..streams import follow_logs

        return follow_logs(ctx, row, _log_query(ctx), lambda ts, stream, text: _print_line(ctx, ts, stream, text))
    result = ctx.client.get(f"containers/{row['id']}/logs/", _log_query(ctx))
    if ctx.json:
        ctx.out.json(result)
        return 0
    for line in result.get("lines", []):
        _print_line(ctx, line.get("ts", ""), line.get("stream", "stdout"), line.get("text", ""))
    sys.stdout.flush()
    for note in result.get("notes") or []:
        ctx.out.info(note)
    return 0


def exec_(ctx: Ctx) -> int:
    from ..streams import exec_session

    row = resolve.container(ctx, ctx.args.container)
    if row.get("state") != "running":
        raise CliError(f"Container {row['name']} is not running ({row.get('state')}).")
    command = ctx.args.command
    if command and command[0] == "--":
        command = command[1:]
    return exec_session(ctx, row, command)


STATS_COLUMNS = [
    Column("NAME", lambda r: r["name"], style="bold", no_wrap=True),
    Column("CPU %", lambda r: "-" if r.get("cpu_percent") is None else f"{r['cpu_percent']:.2f}%", justify="right"),
    Column("MEM USAGE / LIMIT", lambda r: f"{human_size(r.get('memory_used'))} / {human_size(r.get('memory_limit'))}"),
    Column("MEM %", lambda r: "-" if r.get("memory_percent") is None else f"{r['memory_percent']:.2f}%", justify="right"),
    Column("NET I/O", lambda r: f"{human_size(r.get('net_rx'))} / {human_size(r.get('net_tx'))}"),
    Column("BLOCK I/O", lambda r: f"{human_size(r.get('block_read'))} / {human_size(r.get('block_write'))}"),
    Column("PIDS", lambda r: r.get("pids"), justify="right"),
]


def stats(ctx: Ctx) -> int:
    rows = [resolve.container(ctx, ref) for ref in ctx.args.containers]

    def sample() -> list[dict]:
        return [{"name": r["name"], **ctx.client.get(f"containers/{r['id']}/stats/")} for r in rows]

    if ctx.json or ctx.args.no_stream:
        data = sample()
        ctx.out.json(data) if ctx.json else ctx.out.table(STATS_COLUMNS, data)
        return 0
    try:
        while True:
            data = sample()
            if sys.stdout.isatty():
                ctx.out.console.clear()
            ctx.out.table(STATS_COLUMNS, data)
            time.sleep(1)
    except KeyboardInterrupt:
        return 0


def register(sub, add) -> None:
    def ls_options(p):
        p.add_argument("-a", "--all", action="store_true", help="Show stopped containers too (default: running only)")
        p.add_argument("--state", choices=STATES, help="Only containers in this state")
        p.add_argument("--host", help="Only this host (name or id)")
        p.add_argument("--label", help="key=value or key")
        p.add_argument("--image", help="Image name contains this")
        p.add_argument("--stack", help="Compose project name")
        p.add_argument("--name", "--filter", dest="name", help="Search names, images, ids")
        p.add_argument("--removed", action="store_true", help="Include removed containers")
        p.add_argument("--team", help="Team id")
        p.add_argument("-q", "--quiet", action="store_true", help="Only ids")
        p.add_argument("-n", "--limit", type=int, help="At most this many rows")

    ps = add(sub, "ps", ls, "List containers (like `containers ls`)")
    ls_options(ps)

    group = add(sub, "containers", None, "Containers: ls, inspect, start, stop, restart, rm, logs, exec, stats", aliases=["container"])
    csub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls_options(add(csub, "ls", ls, "List containers", aliases=["list"]))
    # docker's habit: the common actions also at the top level (`dockerforge stop web`).
    for target in (csub, sub):
        _actions(target, add)


def _actions(csub, add) -> None:

    def many(p):
        p.add_argument("containers", nargs="+", metavar="CONTAINER", help="Name, id or docker id prefix").completer = container_names
        p.add_argument("--host", help="Host of the container (name or id), when names repeat")

    def one(p):
        p.add_argument("container", metavar="CONTAINER", help="Name, id or docker id prefix").completer = container_names
        p.add_argument("--host", help="Host of the container (name or id), when names repeat")

    p = add(csub, "inspect", inspect, "Show a container (JSON with --raw or --json)")
    many(p)
    p.add_argument("--raw", action="store_true", help="The full record, inspect included, as JSON")
    for name, func, text in (("start", start, "Start"), ("stop", stop, "Stop"), ("restart", restart, "Restart"),
                             ("rm", rm, "Remove")):
        p = add(csub, name, func, f"{text} containers (follows the operation)", aliases=["remove"] if name == "rm" else [])
        many(p)
        p.add_argument("-d", "--detach", action="store_true", help="Do not wait for the operation")
        if name in ("stop", "restart"):
            p.add_argument("-t", "--time", type=int, help="Seconds before SIGKILL")
        if name == "rm":
            p.add_argument("-f", "--force", action="store_true", help="Stop it first")
            p.add_argument("-v", "--volumes", action="store_true", help="Also remove anonymous volumes")

    p = add(csub, "logs", logs, "Show (or -f follow) a container's log")
    one(p)
    p.add_argument("-f", "--follow", action="store_true", help="Follow new lines (Ctrl-C stops)")
    p.add_argument("-n", "--tail", default=None, help="Last N lines, or 'all' (default 200; with -f: 10)")
    p.add_argument("--since", help="10m, 2h, 1d, a date-time or unix seconds")
    p.add_argument("--until", help="As --since")
    p.add_argument("--grep", help="Only lines containing this text")
    p.add_argument("--stream", choices=("all", "stdout", "stderr"), default="all")
    p.add_argument("-t", "--timestamps", action="store_true", help="Show timestamps")

    p = add(csub, "exec", exec_, "Run a command (default: a shell) in a running container, interactively")
    one(p)
    p.add_argument("command", nargs="*", metavar="COMMAND", help="Command and arguments (after --)")

    p = add(csub, "stats", stats, "Live CPU, memory, network and block I/O")
    many(p)
    p.add_argument("--no-stream", action="store_true", help="One sample, then exit")
