"""chat CONTAINER: talk with the AI about a container, with the conversation's memory.

--message TEXT sends one message and prints the answer as it streams (over the WebSocket,
token auth); without it, an interactive prompt (one line per message; `exit` or Ctrl-D
ends). --conversation ID continues a conversation (default: the container's latest, or a new
one); --new starts a new one. --json prints each answer object (sent through the REST API)."""

from __future__ import annotations

import json
import sys

from .. import resolve
from ..completion import container_names
from ..context import Ctx
from ..errors import CliError, PermissionDenied, UsageError

QUIT = {"exit", "quit", ":q"}
ANSWER_TIMEOUT = 300


def conversation_for(ctx: Ctx, container: dict) -> dict:
    args = ctx.args
    if args.conversation:
        conversation = ctx.client.get(f"conversations/{args.conversation}/")
        if conversation.get("container") != container["id"]:
            raise UsageError(f"Conversation {args.conversation} is not about {container['name']}.")
        return conversation
    if not args.new:
        rows = ctx.client.list("conversations/", {"container": container["id"], "ordering": "-updated_at"}, limit=1)
        if rows:
            return rows[0]
    return ctx.client.post("conversations/", {"container": container["id"]})


class ChatStream:
    """One WebSocket for the whole session; each answer streams to stdout as it comes."""

    def __init__(self, ctx: Ctx, conversation_id: int):
        from ..streams import _connect

        self.ws = _connect(ctx, f"/ws/ai/chat/{conversation_id}/", {})
        ready = self._next()
        if ready.get("type") != "ready":
            raise CliError("The chat stream did not start.")
        if not ready.get("can_send"):
            self.ws.close()
            raise PermissionDenied("Your role in this team may read this conversation, not send to it.")

    def _next(self) -> dict:
        from websockets.exceptions import ConnectionClosed

        try:
            return json.loads(self.ws.recv(timeout=ANSWER_TIMEOUT))
        except ConnectionClosed:
            from ..streams import _closed_error

            raise _closed_error(self.ws) or CliError("The server closed the chat stream.") from None
        except TimeoutError:
            raise CliError("No answer within the time limit.") from None

    def ask(self, text: str, write) -> dict:
        self.ws.send(json.dumps({"type": "message", "content": text}))
        while True:
            message = self._next()
            kind = message.get("type")
            if kind == "chunk":
                write(message.get("text", ""))
            elif kind == "answer":
                return message["message"]
            elif kind == "error":
                error = PermissionDenied if message.get("code") == "forbidden" else CliError
                raise error(message.get("message") or "The answer failed.")

    def close(self) -> None:
        self.ws.close()


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _ask_json(ctx: Ctx, conversation_id: int, text: str) -> dict:
    return ctx.client.post(f"conversations/{conversation_id}/messages/", {"content": text}, timeout=ANSWER_TIMEOUT)


def _lines(ctx: Ctx):
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input("you> " if interactive else "")
        except EOFError:
            return
        line = line.strip()
        if line.lower() in QUIT:
            return
        if line:
            yield line


def chat(ctx: Ctx) -> int:
    container = resolve.container(ctx, ctx.args.container)
    conversation = conversation_for(ctx, container)
    cid = conversation["id"]
    messages = [ctx.args.message] if ctx.args.message is not None else None
    if messages is not None and not ctx.args.message.strip():
        raise UsageError("--message is empty.")
    if ctx.json:  # one answer object (--message), or one JSON line per answer (the prompt)
        if messages is not None:
            ctx.out.json(_ask_json(ctx, cid, messages[0]))
        for text in () if messages is not None else _lines(ctx):
            ctx.out.json_line(_ask_json(ctx, cid, text))
        return 0
    if messages is None:
        ctx.out.info(f"Conversation {cid} about {container['name']} ({conversation.get('provider') or 'team provider'}). "
                     "One line per message; `exit` or Ctrl-D ends.")
    stream = ChatStream(ctx, cid)
    try:
        for text in messages or _lines(ctx):
            if messages is None and sys.stdin.isatty():
                _write("ai> ")
            stream.ask(text, _write)
            _write("\n")
    except KeyboardInterrupt:
        _write("\n")
    finally:
        stream.close()
    return 0


def register(sub, add) -> None:
    p = add(sub, "chat", chat, "Chat with the AI about a container (memory kept per conversation; answers stream)")
    p.add_argument("container", metavar="CONTAINER").completer = container_names
    p.add_argument("-m", "--message", help="Send one message and print the answer (no prompt)")
    p.add_argument("--conversation", type=int, metavar="ID", help="Continue this conversation")
    p.add_argument("--new", action="store_true", help="Start a new conversation")
    p.add_argument("--host", help="Host name or id, when names repeat")

