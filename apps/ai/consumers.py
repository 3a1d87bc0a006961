"""/ws/ai/analyses/<id>/ (AnalysisConsumer, at the end) and /ws/ai/chat/<id>/: a conversation's answers, streamed as they are written.

Every socket on a conversation joins its own group (never the team group), after the user's
permission on that conversation was checked: a conversation of another team is refused
before accept (4404). Viewers may watch; operators and admins may send.

Client -> server: {"type": "message", "content": str}.
Server -> client (to every socket of the conversation, in order):
{"type": "question", "message": {...}}, {"type": "chunk", "text": str} (placeholders already
restored), {"type": "answer", "message": {...}}, {"type": "error", "code", "message"} with code
"forbidden" (a viewer sent), "busy", "bad_request", "provider" or "failed".
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.urls import path

from apps.activity.consumers import PushConsumer
from apps.core import actor as actor_ctx
from apps.core.roles import Action

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED, CLOSE_NOT_FOUND = 4401, 4404


def group_name(conversation_id: int) -> str:
    return f"ai-chat-{conversation_id}"


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.conversation = None
        self.busy = False
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.conversation, self.can_send = await database_sync_to_async(self._load)(user)
        if self.conversation is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        client = self.scope.get("client") or ("", 0)
        via = "cli" if self.scope.get("auth_via") == "token" else "ui"
        self.actor = actor_ctx.actor_for_user(user, via, actor_ctx.new_request_id(), client[0] or "")
        self.group = group_name(self.conversation.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "ready", "conversation": self.conversation.pk, "can_send": self.can_send})

    def _load(self, user):
        from .chat import may_send
        from .models import Conversation

        pk = self.scope["url_route"]["kwargs"]["pk"]
        conversation = Conversation.objects.for_user(user, Action.VIEW).filter(pk=pk).first()
        if conversation is None:
            return None, False
        return conversation, may_send(user, conversation.team_id)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or content.get("type") != "message":
            return
        if not self.can_send:
            await self.send_json({"type": "error", "code": "forbidden", "message": "Your role in this team may read this conversation, not send to it."})
            return
        if self.busy:
            await self.send_json({"type": "error", "code": "busy", "message": "Wait for the answer before sending the next message."})
            return
        text = content.get("content")
        if not isinstance(text, str) or not text.strip():
            await self.send_json({"type": "error", "code": "bad_request", "message": "Write a message."})
            return
        self.busy = True
        loop = asyncio.get_running_loop()
        asyncio.create_task(self.answer(text, loop))

    async def answer(self, text: str, loop):
        try:
            await database_sync_to_async(self._turn, thread_sensitive=False)(text, loop)
        except BaseException:
            self.busy = False  # the turn ended without its final event
            raise

    def _turn(self, text: str, loop) -> None:
        """In a worker thread: the turn, each chunk pushed to the group as it arrives."""
        from . import chat
        from .models import Conversation

        def push(message: dict) -> None:
            asyncio.run_coroutine_threadsafe(self.channel_layer.group_send(self.group, {"type": "chat.event", "event": message}),
                                             loop).result(timeout=30)

        conversation = Conversation.objects.get(pk=self.conversation.pk)
        if not chat.may_send(self.scope["user"], conversation.team_id):  # the role may have changed since connect
            push({"type": "error", "code": "forbidden", "message": "Your role in this team may read this conversation, not send to it."})
            return
        try:
            with actor_ctx.acting(self.actor):
                turn = chat.send(conversation, self.scope["user"], text, on_text=lambda chunk: push({"type": "chunk", "text": chunk}),
                                 on_question=lambda message: push({"type": "question", "message": message}))
        except chat.ChatError as exc:
            push({"type": "error", "code": "provider" if exc.upstream else "bad_request", "message": str(exc)})
            return
        except Exception:  # noqa: BLE001 - reported to the page, logged here
            logger.exception("chat turn in conversation %s failed", conversation.pk)
            push({"type": "error", "code": "failed", "message": "The answer failed; see the server log."})
            return
        push({"type": "answer", "message": chat.message_dict(turn.answer, conversation.redactor())})

    async def chat_event(self, event):
        if event["event"]["type"] in ("answer", "error"):
            self.busy = False  # before the client sees the end of the turn (it may send the next at once)
        await self.send_json(event["event"])

    async def disconnect(self, code):
        if self.conversation is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)


class AnalysisConsumer(PushConsumer):
    """/ws/ai/analyses/<id>/: one analysis's agent steps as they are stored and its changes
    (apps/ai/live.py). Viewers may watch; an analysis of another team is refused before accept.

    On connect, after joining the group, the socket first gets {"type": "ready", "status",
    "steps"} and every step stored so far (a page rendered a moment before may have missed
    some); the browser keys rows by step number, so a step seen twice is shown once."""

    def groups_for(self, user):
        from . import live
        from .models import Analysis

        pk = self.scope["url_route"]["kwargs"]["pk"]
        exists = Analysis.objects.for_user(user, Action.VIEW).filter(pk=pk).exists()
        return [live.group(pk)] if exists else []

    async def connect(self):
        await super().connect()
        if getattr(self, "joined", None):
            for message in await database_sync_to_async(self._snapshot)():
                await self.send_json(message)

    def _snapshot(self) -> list[dict]:
        from . import live
        from .models import Analysis

        analysis = Analysis.objects.get(pk=self.scope["url_route"]["kwargs"]["pk"])
        steps = list(analysis.steps.order_by("number"))
        return [{"type": "ready", "analysis": analysis.pk, "status": analysis.status, "steps": len(steps)},
                *(live.step_event(step) for step in steps)]


websocket_urlpatterns = [
    path("ws/ai/chat/<int:pk>/", ChatConsumer.as_asgi(), name="ws-ai-chat"),
    path("ws/ai/analyses/<int:pk>/", AnalysisConsumer.as_asgi(), name="ws-ai-analysis"),
]
