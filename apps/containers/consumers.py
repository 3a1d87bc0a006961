"""Per-container streams: log follow (viewers and up) and the exec console (operators and
admins). Both check the user's permission on the container before accepting: a container
of another team, or a role that may not act, is refused before accept and gets no data."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.http import QueryDict
from django.urls import path

from apps.core import actor as actor_ctx
from apps.core.api import user_may
from apps.core.roles import Action
from apps.engine.errors import EngineError

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_BAD_REQUEST = 4401, 4403, 4404, 4400
MAX_QUEUED_LINES = 5000
MAX_BATCH = 500
MAX_INPUT_BYTES = 64 * 1024


def in_thread(fn):
    """Run blocking engine I/O off the event loop, in its own thread (not Django's one)."""
    return sync_to_async(fn, thread_sensitive=False)


class ContainerSocketMixin:
    """Authorizes the socket's user on the container in the URL; closes before accept."""

    required_action = Action.VIEW

    async def authorize(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return None
        container, code = await database_sync_to_async(self._load)(user)
        if container is None:
            await self.close(code=code)
            return None
        return container

    def _load(self, user):
        from .models import Container

        pk = self.scope["url_route"]["kwargs"]["pk"]
        container = Container.objects.for_user(user, Action.VIEW).present().select_related("host").filter(pk=pk).first()
        if container is None:
            return None, CLOSE_NOT_FOUND
        if self.required_action != Action.VIEW and not user_may(user, container.team_id, self.required_action):
            return None, CLOSE_FORBIDDEN
        return container, 0

    def query(self) -> QueryDict:
        return QueryDict(self.scope.get("query_string", b"").decode("latin1"))

    def actor(self) -> actor_ctx.Actor:
        client = self.scope.get("client") or ("", 0)
        via = "cli" if self.scope.get("auth_via") == "token" else "ui"
        return actor_ctx.actor_for_user(self.scope["user"], via, actor_ctx.new_request_id(), client[0] or "")


class ContainerLogsConsumer(ContainerSocketMixin, AsyncJsonWebsocketConsumer):
    """/ws/containers/<id>/logs/?tail=&since=&q=&regex=&stream=: new lines as they come.

    Messages: {"type": "lines", "lines": [{"ts", "stream", "spans": [[classes, text], ...]}]},
    {"type": "dropped", "count"} when the page cannot keep up, {"type": "end"} when the
    container's log ends, {"type": "error", "message"|"errors"}.
    """

    async def connect(self):
        from .logs import LogFilterForm

        self.stop = threading.Event()
        self.stream = None
        self.container = await self.authorize()
        if self.container is None:
            return
        await self.accept()
        form = LogFilterForm(self.query(), default_tail=0)
        if not form.is_valid():
            await self.send_json({"type": "error", "errors": form.errors.get_json_data()})
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.dropped = 0
        self.sender = asyncio.create_task(self.send_loop())
        threading.Thread(target=self.pump, args=(form.query(),), daemon=True, name=f"logs-follow-{self.container.pk}").start()

    def opened(self, stream) -> None:
        self.stream = stream
        if self.stop.is_set():
            stream.close()

    def pump(self, query) -> None:
        """Reader thread: the engine's follow stream -> the loop's queue."""
        from .logs import iter_lines

        try:
            for line in iter_lines(self.container, query, follow=True, opened=self.opened):
                if self.stop.is_set():
                    return
                self.loop.call_soon_threadsafe(self.offer, ("line", line.as_message()))
            if not self.stop.is_set():
                self.loop.call_soon_threadsafe(self.offer, ("end", None))
        except EngineError as exc:
            if not self.stop.is_set():
                self.loop.call_soon_threadsafe(self.offer, ("error", str(exc)))
        except Exception:  # noqa: BLE001 - reported to the page, logged here
            if not self.stop.is_set():
                logger.exception("log follow of container %s failed", self.container.pk)
                self.loop.call_soon_threadsafe(self.offer, ("error", "Reading the log failed."))

    def offer(self, item) -> None:
        if item[0] == "line" and self.queue.qsize() >= MAX_QUEUED_LINES:
            self.dropped += 1
            return
        self.queue.put_nowait(item)

    async def send_loop(self):
        while True:
            kind, payload = await self.queue.get()
            if kind == "line":
                lines = [payload]
                while len(lines) < MAX_BATCH and not self.queue.empty() and self.queue._queue[0][0] == "line":
                    lines.append(self.queue.get_nowait()[1])
                if self.dropped:
                    await self.send_json({"type": "dropped", "count": self.dropped})
                    self.dropped = 0
                await self.send_json({"type": "lines", "lines": lines})
            elif kind == "end":
                await self.send_json({"type": "end"})
                await self.close(code=1000)
                return
            else:
                await self.send_json({"type": "error", "message": payload})
                await self.close(code=1011)
                return

    async def disconnect(self, code):
        self.stop.set()
        if self.stream is not None:
            await in_thread(self.stream.close)()
        sender = getattr(self, "sender", None)
        if sender is not None and sender is not asyncio.current_task():
            sender.cancel()


class ContainerExecConsumer(ContainerSocketMixin, AsyncWebsocketConsumer):
    """/ws/containers/<id>/exec/?cmd=sh&rows=&cols=: an interactive TTY in the container.

    Operators and admins only. Client -> server: binary frames are keystrokes; text frames
    are JSON {"type": "input", "data": str} or {"type": "resize", "rows", "cols"}.
    Server -> client: binary frames are terminal output; text frames are JSON
    {"type": "ready", "exec_id"}, {"type": "exit", "code"}, {"type": "error", "message"}.
    """

    required_action = Action.OPERATE

    async def connect(self):
        from . import exec_console

        self.session = None
        self.container = await self.authorize()
        if self.container is None:
            return
        query = self.query()
        try:
            command = exec_console.parse_command(query.get("cmd"))
        except ValueError as exc:
            await self.accept()
            await self.send(text_data=json.dumps({"type": "error", "message": str(exc)}))
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        await self.accept()
        self.loop = asyncio.get_running_loop()
        self.audit_actor = self.actor()
        rows, cols = exec_console.parse_size(query.get("rows")), exec_console.parse_size(query.get("cols"))
        try:
            self.session = await in_thread(exec_console.open_session)(self.container, command, rows, cols)
        except EngineError as exc:
            await self.send(text_data=json.dumps({"type": "error", "message": str(exc)}))
            await self.close(code=1011)
            return
        await database_sync_to_async(exec_console.audit_start)(self.audit_actor, self.session)
        await self.send(text_data=json.dumps({"type": "ready", "exec_id": self.session.engine.exec_id, "command": command}))
        threading.Thread(target=self.pump, daemon=True, name=f"exec-{self.container.pk}").start()

    def pump(self) -> None:
        """Reader thread: process output -> the socket, with backpressure; at EOF, report."""
        session = self.session
        while True:
            data = session.engine.recv(65536)
            if not data:
                break
            session.bytes_out += len(data)
            try:
                asyncio.run_coroutine_threadsafe(self.send(bytes_data=data), self.loop).result(timeout=30)
            except Exception:  # noqa: BLE001 - the socket went away; disconnect() cleans up
                return
        if not session.ended:
            asyncio.run_coroutine_threadsafe(self.process_ended(), self.loop)

    async def process_ended(self):
        code = await self.finish()
        await self.send(text_data=json.dumps({"type": "exit", "code": code}))
        await self.close(code=1000)

    async def finish(self) -> int | None:
        """End the session once (process exit or disconnect, whichever comes first); audit it."""
        from . import exec_console

        session = self.session
        if session is None or session.ended:
            return None
        session.ended = True  # set before any await: the other path sees it
        code = await in_thread(exec_console.hang_up)(session)
        await database_sync_to_async(exec_console.audit_end)(self.audit_actor, session, code)
        return code

    async def receive(self, text_data=None, bytes_data=None):
        session = self.session
        if session is None or session.ended:
            return
        if bytes_data is not None:
            await self.write(bytes_data)
            return
        try:
            message = json.loads(text_data or "")
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("type") == "input" and isinstance(message.get("data"), str):
            await self.write(message["data"].encode("utf-8", errors="replace"))
        elif message.get("type") == "resize":
            await self.resize(message.get("rows"), message.get("cols"))

    async def write(self, data: bytes):
        if len(data) > MAX_INPUT_BYTES:
            data = data[:MAX_INPUT_BYTES]
        self.session.bytes_in += len(data)
        try:
            await in_thread(self.session.engine.send)(data)
        except EngineError as exc:
            await self.send(text_data=json.dumps({"type": "error", "message": str(exc)}))

    async def resize(self, rows, cols):
        from .exec_console import parse_size

        rows, cols = parse_size(rows), parse_size(cols)
        if rows and cols:
            try:
                await in_thread(self.session.engine.resize)(rows, cols)
            except EngineError:
                pass  # the process may have just ended; resizing is best effort

    async def disconnect(self, code):
        await self.finish()


websocket_urlpatterns = [
    path("ws/containers/<int:pk>/logs/", ContainerLogsConsumer.as_asgi(), name="ws-container-logs"),
    path("ws/containers/<int:pk>/exec/", ContainerExecConsumer.as_asgi(), name="ws-container-exec"),
]
