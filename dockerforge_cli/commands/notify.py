"""notify: channels ls, test CHANNEL (one message now; prints how the delivery went)."""

from __future__ import annotations

from .. import resolve
from ..completion import channel_names
from ..context import Ctx
from ..output import Column, relative_time


def _health(row: dict) -> str:
    """The channel's latest outcome: an error newer than the last success wins."""
    error_at, ok_at = row.get("last_error_at"), row.get("last_success_at")
    if error_at and (not ok_at or error_at > ok_at):
        return f"failing: {row.get('last_error') or 'error'}"
    return f"ok {relative_time(ok_at)}" if ok_at else "-"


CHANNEL_COLUMNS = [
    Column("ID", lambda r: r["id"], style="dim", no_wrap=True, justify="right"),
    Column("NAME", lambda r: r["name"], style="bold", no_wrap=True),
    Column("KIND", lambda r: r["kind"], no_wrap=True),
    Column("ENABLED", lambda r: r.get("enabled")),
    Column("DESTINATION", lambda r: r.get("url_hint") or ", ".join((r.get("config") or {}).get("recipients") or [])),
    Column("LAST RESULT", _health),
    Column("TEAM", lambda r: r.get("team"), justify="right"),
]


def channels_ls(ctx: Ctx) -> int:
    a = ctx.args
    rows = ctx.client.list("notification-channels/", {"kind": a.kind, "ordering": "name", **ctx.team_param()})
    ctx.out.json(rows) if ctx.json else ctx.out.table(CHANNEL_COLUMNS, rows, empty="No notification channels.")
    return 0


def _outcome(delivery: dict) -> str:
    if delivery["status"] == "delivered":
        code = delivery.get("response_code")
        return "delivered" + (f" (HTTP {code})" if code else "")
    return f"{delivery['status']}: {delivery.get('error') or 'no reason given'}"


def test(ctx: Ctx) -> int:
    channel = resolve.by_name(ctx, "notification channel", "notification-channels/", ctx.args.channel)
    delivery = ctx.client.post(f"notification-channels/{channel['id']}/test/")
    ok = delivery["status"] == "delivered"
    if ctx.json:
        ctx.out.json({"channel": channel, "delivery": delivery, "ok": ok})
    else:
        latency = next((a.get("latency_ms") for a in reversed(delivery.get("attempt_log") or [])), None)
        took = f" in {latency} ms" if latency is not None else ""
        ctx.out.text(f"Test message to {channel['kind']} channel {channel['name']}: {_outcome(delivery)}{took}.")
    return 0 if ok else 1


def register(sub, add) -> None:
    group = add(sub, "notify", None, "Notifications: channels ls, test CHANNEL", aliases=["notifications"])
    nsub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    channels = add(nsub, "channels", None, "Notification channels: ls")
    csub = channels.add_subparsers(dest="channels_action", metavar="ACTION", required=True)
    p = add(csub, "ls", channels_ls, "List notification channels (secrets never shown)", aliases=["list"])
    p.add_argument("--kind", help="Only this type (email, slack, webhook, ntfy, ...)")
    p.add_argument("--team", help="Team id")

    p = add(nsub, "test", test, "Send a test message now and print the delivery result (exit 1 when it failed)")
    p.add_argument("channel", metavar="CHANNEL", help="Channel name or id").completer = channel_names
