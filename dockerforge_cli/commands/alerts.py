"""alerts: ls (open alerts by default), ack ID, silence (by rule, host, labels or target
name, for a while)."""

from __future__ import annotations

import argparse
import re

from .. import resolve
from ..completion import host_names, rule_names
from ..context import Ctx
from ..errors import UsageError
from ..output import Column, parse_time, relative_time

STATUSES = ("firing", "pending", "resolved")
OPEN = ("firing", "pending")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DURATION = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str) -> int:
    """'2h', '1h30m', '90m', '1d' or bare seconds -> seconds (argparse type: bad -> exit 2)."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    parts = DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration: use e.g. 30m, 2h, 1h30m, 1d")
    return sum(int(n) * UNIT_SECONDS[u] for n, u in parts)


def format_duration(seconds: int) -> str:
    """The largest units that divide evenly: 5400 -> '1h30m'."""
    out = ""
    for unit, size in sorted(UNIT_SECONDS.items(), key=lambda kv: -kv[1]):
        count, seconds = divmod(seconds, size)
        out += f"{count}{unit}" if count else ""
    return out or "0s"


def _acked(row: dict) -> str:
    return relative_time(row["acknowledged_at"]) if row.get("acknowledged_at") else "-"


ALERT_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("STATUS", lambda r: r["status"], no_wrap=True),
    Column("RULE", lambda r: r.get("rule_name"), style="bold"),
    Column("TARGET", lambda r: r.get("target_name")),
    Column("SUMMARY", lambda r: r.get("summary")),
    Column("STARTED", lambda r: relative_time(r.get("started_at")), no_wrap=True),
    Column("ACKED", _acked, no_wrap=True),
    Column("MUTED", lambda r: r.get("suppressed")),
    Column("HOST", lambda r: r.get("host"), justify="right"),
]


def _statuses(a: argparse.Namespace) -> list[str | None]:
    if a.status:
        return [a.status]
    return [None] if a.all else list(OPEN)


def ls(ctx: Ctx) -> int:
    a = ctx.args
    params = {"ordering": "-started_at", **ctx.team_param()}
    if a.host:
        params["host"] = resolve.host_id(ctx, a.host)
    rows: list[dict] = []
    # The API filters one status at a time: "open" is two lists, merged newest first.
    for status in _statuses(a):
        rows += ctx.client.list("alerts/", {**params, "status": status}, limit=a.limit)
    rows.sort(key=lambda r: r.get("started_at") or "", reverse=True)
    rows = rows[: a.limit]
    empty = "No alerts." if (a.all or a.status) else "No open alerts (`--all` shows resolved ones too)."
    ctx.out.json(rows) if ctx.json else ctx.out.table(ALERT_COLUMNS, rows, empty=empty)
    return 0


def ack(ctx: Ctx) -> int:
    alert = ctx.client.post(f"alerts/{ctx.args.id}/ack/")
    if ctx.json:
        ctx.out.json(alert)
    else:
        ctx.out.text(f"Alert {alert['id']} ({alert.get('rule_name')}: {alert.get('target_name')}) acknowledged "
                     f"{relative_time(alert.get('acknowledged_at'))}.")
    return 0


def parse_labels(items: list[str]) -> dict[str, str]:
    """['app=web', 'tier'] -> {"app": "web", "tier": ""} (an empty value matches any value)."""
    selector = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key.strip():
            raise UsageError(f"--label {item!r}: a label name is missing (use KEY=VALUE or KEY).")
        selector[key.strip()] = value.strip()
    return selector


def _matchers(ctx: Ctx) -> tuple[dict, list[str], int | None]:
    """The silence's matchers, how to describe them, and the team they imply (a rule's or a
    host's: the silence must live in the same team)."""
    a = ctx.args
    body: dict = {}
    said: list[str] = []
    team = None
    if a.rule:
        rule = resolve.by_name(ctx, "alert rule", "alert-rules/", a.rule)
        body["rule"], team = rule["id"], rule["team"]
        said.append(f"rule {rule['name']}")
    if a.host:
        host = resolve.host(ctx, a.host)
        body["host"], team = host["id"], team or host["team"]
        said.append(f"host {host['name']}")
    if a.label:
        body["label_selector"] = parse_labels(a.label)
        said.append("labels " + ", ".join(f"{k}={v}" if v else k for k, v in body["label_selector"].items()))
    if a.target:
        body["target_name"] = a.target
        said.append(f"target {a.target}")
    if not body:
        raise UsageError("Say what to silence: --rule, --host, --label or --target.")
    return body, said, team


def silence(ctx: Ctx) -> int:
    a = ctx.args
    body, said, team = _matchers(ctx)
    comment = a.comment or f"Silenced for {format_duration(a.duration)} with the dockerforge CLI"
    team_param = {"team": team} if team and not getattr(a, "team", None) else ctx.team_param()
    row = ctx.client.post("silences/", {**body, "duration_seconds": a.duration, "comment": comment, **team_param})
    if ctx.json:
        ctx.out.json(row)
    else:
        ends = parse_time(row.get("ends_at"))
        until = ends.astimezone().strftime("%Y-%m-%d %H:%M") if ends else row.get("ends_at")
        ctx.out.text(f"Silence {row['id']} until {until}: {'; '.join(said)}.")
    return 0


def register(sub, add) -> None:
    group = add(sub, "alerts", None, "Alerts: ls, ack ID, silence", aliases=["alert"])
    asub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = add(asub, "ls", ls, "List open alerts (firing and pending), newest first", aliases=["list"])
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--all", action="store_true", help="Resolved alerts too")
    p.add_argument("--host", help="Host name or id").completer = host_names
    p.add_argument("--team", help="Team id")
    p.add_argument("-n", "--limit", type=int, default=100)

    p = add(asub, "ack", ack, "Acknowledge an alert (operators and admins)")
    p.add_argument("id", type=int, metavar="ID")

    p = add(asub, "silence", silence, "Mute the notifications of matching alerts for a while "
                                      "(every matcher given must match)")
    p.add_argument("--rule", metavar="ID", help="Alert rule id or name").completer = rule_names
    p.add_argument("--host", metavar="NAME", help="Host name or id").completer = host_names
    p.add_argument("--label", metavar="K=V", nargs="+", action="extend",
                   help="Container labels (KEY=VALUE; KEY alone matches any value); repeatable")
    p.add_argument("--target", metavar="NAME", help="Exact container or host name")
    p.add_argument("--for", dest="duration", required=True, metavar="DURATION", type=parse_duration,
                   help="How long: 30m, 2h, 1h30m, 1d (1 minute to 90 days)")
    p.add_argument("--comment", help="Why (default: says it came from the CLI)")
    p.add_argument("--team", help="Team id (default: the rule's or the host's)")
