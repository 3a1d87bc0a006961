"""Chat per container or per incident (alert), with contextual memory.

Each turn sends: the system prompt with the target's context (the analysis context: state,
detector findings with evidence ids, the log tail; all redacted), the conversation's summary
of older turns, and the most recent turns that fit AI_CHAT_MEMORY_TOKENS (estimated at
chars/4). Turns that no longer fit are summarised (by the provider; the offline one writes an
extractive summary) into Conversation.summary: never simply dropped.

Messages are stored redacted (as sent and as received); the conversation's encrypted
redaction map restores them for the person reading. Placeholders stay stable across turns."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max

from apps.activity.audit import record_action
from apps.core.api import user_may
from apps.core.roles import Action

from . import prompt
from .findings import Finding, number_evidence
from .models import ChatMessage, Conversation
from .providers import ProviderError, Request, choose
from .providers.base import cost as _cost
from .redaction import Redactor

logger = logging.getLogger(__name__)

SYSTEM = (
    "You are a senior site reliability engineer chatting with an operator about one Docker container or incident. "
    "The context below holds its state, the findings of deterministic detectors with evidence ids like [E3], and its "
    "recent log, all redacted. Answer the latest question from the context and the conversation so far; cite evidence "
    "ids in square brackets; placeholders such as [SECRET_1] or [IP_2] stand for redacted values: keep them as they are. "
    "Be concise."
)
SUMMARY_SYSTEM = (
    "You keep the memory of a troubleshooting chat. Write a short summary of the conversation: keep every fact, finding, "
    "number, name, decision and answer given, as a list. Keep placeholders such as [SECRET_1] as they are."
)
SUMMARY_INSTRUCTION = "Summarise the conversation above for your memory, including the facts of the previous summary."
TITLE_CHARS = 80
MAX_MESSAGE_CHARS = 8000


class ChatError(Exception):
    """A turn failed (bad input, or the provider: `upstream`); the message says why."""

    def __init__(self, message: str, *, upstream: bool = False):
        super().__init__(message)
        self.upstream = upstream


def estimate_tokens(text: str) -> int:
    return len(text or "") // 4 + 1


def may_read(user, conversation: Conversation) -> bool:
    return user_may(user, conversation.team_id, Action.VIEW)


def may_send(user, team_id) -> bool:
    """Viewers read conversations; operators and admins start them and send messages (a turn
    spends the team's provider budget and may send the container's redacted context out)."""
    return user_may(user, team_id, Action.OPERATE)


# --- context ---------------------------------------------------------------------------------

@dataclass
class TargetContext:
    text: str
    findings: list[Finding] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    ctx: object = None  # the container's ContainerContext, when it could be read


def alert_container(alert):
    from apps.containers.models import Container

    if alert is None or alert.target_kind != "container":
        return None
    return Container.objects.filter(team_id=alert.team_id, pk=alert.target_id).select_related("host").first()


def _alert_text(alert) -> str:
    lines = [f"Incident: alert {alert.rule.name!s} on {alert.target_kind} {alert.target_name}, status {alert.status}, "
             f"started {alert.started_at:%Y-%m-%d %H:%M:%S} UTC", f"Summary: {alert.summary}"]
    if alert.value is not None:
        lines.append(f"Value: {alert.value}")
    for item in (alert.evidence or [])[:20]:
        lines.append("Evidence: " + ", ".join(f"{k}={v}" for k, v in item.items()))
    return "\n".join(lines)


def gather(conversation: Conversation) -> TargetContext:
    """What the target looks like now: the analysis context of the container (live inspect,
    log tail, events, findings) and, for an incident, the alert itself."""
    from . import context as ctx_mod
    from .services import findings_for, secret_values

    container = conversation.container or alert_container(conversation.alert)
    head = _alert_text(conversation.alert) + "\n\n" if conversation.alert_id and conversation.alert else ""
    if container is None:
        return TargetContext(head + "(no container context)")
    try:
        ctx = ctx_mod.collect(container)
    except Exception as exc:  # noqa: BLE001 - the engine may be down: chat on with what is stored
        logger.info("chat context of container %s unavailable: %s", container.pk, exc)
        return TargetContext(head + f"Container: {container.name}\nImage: {container.image}\nState (last seen): {container.state} "
                             f"exit code {container.exit_code}\n(live state and log unavailable: {exc})")
    findings = findings_for(ctx)
    number_evidence(findings)
    return TargetContext(head, findings, secret_values(ctx.inspect), ctx)


def context_text(target: TargetContext, redactor: Redactor) -> str:
    """The context, redacted with the conversation's redactor; findings redacted in place."""
    body = prompt.build(target.ctx, target.findings, redactor) if target.ctx is not None else ""
    prompt.redact_findings(target.findings, redactor)
    return redactor.redact(target.text) + body


# --- memory ----------------------------------------------------------------------------------

def _turns(conversation: Conversation) -> list[ChatMessage]:
    """Messages not yet folded into the summary (failed questions left out)."""
    return list(conversation.messages.filter(seq__gt=conversation.summarized_through, error="").order_by("seq"))


def split_memory(turns: list[ChatMessage], budget: int) -> tuple[list[ChatMessage], list[ChatMessage]]:
    """(older turns to summarise, recent turns to send). The newest turn (the question) is
    always sent; the recent window starts with a user turn (the APIs want that)."""
    kept, used = [], 0
    for message in reversed(turns):
        cost = estimate_tokens(message.content)
        if kept and used + cost > budget:
            break
        kept.insert(0, message)
        used += cost
    while len(kept) > 1 and kept[0].role != ChatMessage.Role.USER:
        kept.pop(0)
    return turns[: len(turns) - len(kept)], kept


def as_messages(turns: list[ChatMessage]) -> list[dict]:
    """role/content dicts, consecutive turns of one role merged (the APIs want alternation)."""
    out: list[dict] = []
    for message in turns:
        if out and out[-1]["role"] == message.role:
            out[-1]["content"] += "\n\n" + message.content
        else:
            out.append({"role": message.role, "content": message.content})
    return out


def cap_summary(text: str) -> str:
    """Keep the summary bounded: its first two lines (how it started) and the newest lines."""
    limit = getattr(settings, "AI_CHAT_SUMMARY_CHARS", 4000)
    if len(text) <= limit:
        return text
    lines = text.splitlines()
    head, tail = lines[:2], []
    room = limit - sum(len(x) + 1 for x in head) - 4
    for line in reversed(lines[2:]):
        if len(line) + 1 > room:
            break
        tail.insert(0, line)
        room -= len(line) + 1
    return "\n".join([*head, "…", *tail])


def summarise(conversation: Conversation, choice, older: list[ChatMessage]) -> tuple[str, int, int]:
    """Fold `older` into the conversation's summary; (summary, input tokens, output tokens)."""
    messages = as_messages(older)
    if messages and messages[0]["role"] != "user":
        messages.insert(0, {"role": "user", "content": "(the conversation so far)"})
    previous = f"\n\nPrevious summary:\n{conversation.summary}" if conversation.summary else ""
    instruction = SUMMARY_INSTRUCTION + previous
    if messages[-1]["role"] == "user":  # keep the alternation the APIs want
        messages.append({"role": "assistant", "content": "(no answer)"})
    messages.append({"role": "user", "content": instruction})
    request = Request(system=SUMMARY_SYSTEM, messages=messages, model=choice.model, max_tokens=800, purpose="summary",
                      summary=conversation.summary)
    result = choice.provider.complete(request)
    text = result.text.strip()
    if not text:  # an empty summary would lose the old turns: fall back to the extractive one
        from .chat_offline import summarise as extractive

        text = extractive(request)
    return cap_summary(text), result.input_tokens, result.output_tokens


# --- a turn ----------------------------------------------------------------------------------

class StreamRestorer:
    """Restores placeholders in streamed text. A placeholder split over two chunks
    ("...[SEC" + "RET_1]...") is held back until it is whole."""

    PARTIAL = re.compile(r"\[[A-Z]{0,6}(?:_\d{0,6})?")
    MAX_HOLD = 16

    def __init__(self, redactor: Redactor):
        self.redactor = redactor
        self.pending = ""

    def feed(self, chunk: str) -> str:
        text = self.pending + chunk
        cut = text.rfind("[")
        tail = text[cut:] if cut != -1 else ""
        if tail and "]" not in tail and len(tail) <= self.MAX_HOLD and self.PARTIAL.fullmatch(tail):
            self.pending, text = tail, text[:cut]
        else:
            self.pending = ""
        return self.redactor.restore(text)

    def flush(self) -> str:
        text, self.pending = self.pending, ""
        return self.redactor.restore(text)


@dataclass
class Turn:
    question: ChatMessage
    answer: ChatMessage
    text: str  # the answer as the person sees it (restored)
    request: Request


def _next_seq(conversation: Conversation) -> int:
    return (conversation.messages.aggregate(m=Max("seq"))["m"] or 0) + 1


def _add_message(conversation: Conversation, **fields) -> ChatMessage:
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()  # serialise seq numbers
        return ChatMessage.objects.create(conversation=conversation, seq=_next_seq(conversation), **fields)


def start(user, *, team, container=None, alert=None, title: str = "") -> Conversation:
    if container is not None:
        name = container.name
    elif alert is not None:
        name = f"{alert.rule.name}: {alert.target_name}"
    else:
        name = ""  # a conversation without a target (tests; the team's general questions)
    return Conversation.objects.create(team=team, container=container, alert=alert, target_name=name[:300],
                                       title=title[:200], created_by=user if user.is_authenticated else None)


def _may_change(user, conversation: Conversation) -> None:
    from django.core.exceptions import PermissionDenied

    if not may_send(user, conversation.team_id):
        raise PermissionDenied("Your role in this team may read this conversation, not change it.")


def rename(user, conversation: Conversation, title: str) -> Conversation:
    """Operators and admins of the conversation's team; audited by the generic logger."""
    from django.core.exceptions import ValidationError

    _may_change(user, conversation)
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": ["Give the conversation a title."]})
    if len(title) > 200:
        raise ValidationError({"title": ["At most 200 characters."]})
    conversation.title = title
    conversation.save(update_fields=["title", "updated_at"])
    return conversation


def delete(user, conversation: Conversation) -> None:
    """The conversation and its messages; the generic logger audits the deletion."""
    _may_change(user, conversation)
    conversation.delete()


def send(conversation: Conversation, user, text: str, on_text: Callable[[str], None] | None = None,
         on_question: Callable[[dict], None] | None = None) -> Turn:
    """One turn: the question, memory (summarising what no longer fits), the provider's
    answer (streamed to `on_text` restored, when given), both stored redacted.
    `on_question` gets the stored question (as shown) before the provider is called."""
    text = (text or "").strip()
    if not text:
        raise ChatError("Write a message.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ChatError(f"A message has at most {MAX_MESSAGE_CHARS} characters.")
    choice = choose(_team_settings(conversation.team))
    target = gather(conversation)
    redactor = conversation.redactor(target.secrets)
    context = context_text(target, redactor)
    question = _add_message(conversation, role=ChatMessage.Role.USER, content=redactor.redact(text),
                            author=user if user.is_authenticated else None)
    if on_question is not None:
        on_question(message_dict(question, redactor))
    updates: dict = {"provider": choice.provider.name, "model": choice.model}
    if not conversation.title:
        updates["title"] = question.content[:TITLE_CHARS]
    tokens_in = tokens_out = 0
    try:
        older, recent = split_memory(_turns(conversation), getattr(settings, "AI_CHAT_MEMORY_TOKENS", 3000))
        if older:
            summary, s_in, s_out = summarise(conversation, choice, older)
            conversation.summary, conversation.summarized_through = summary, older[-1].seq
            updates.update(summary=summary, summarized_through=older[-1].seq)
            tokens_in, tokens_out = s_in, s_out
        request = build_request(conversation, choice, context, target.findings, recent)
        restorer = StreamRestorer(redactor)
        if on_text is None:
            result = choice.provider.complete(request)
        else:
            def emit(chunk: str) -> None:
                shown = restorer.feed(chunk)
                if shown:
                    on_text(shown)

            result = choice.provider.stream(request, emit)
            tail = restorer.flush()
            if tail:
                on_text(tail)
    except ProviderError as exc:
        ChatMessage.objects.filter(pk=question.pk).update(error=str(exc)[:2000])
        _save(conversation, updates, redactor, tokens_in, tokens_out, _cost(choice.model, tokens_in, tokens_out))
        raise ChatError(str(exc), upstream=True) from exc
    answer = _add_message(conversation, role=ChatMessage.Role.ASSISTANT, content=result.text,
                          input_tokens=result.input_tokens, output_tokens=result.output_tokens)
    tokens_in, tokens_out = tokens_in + result.input_tokens, tokens_out + result.output_tokens
    _save(conversation, {**updates, "model": result.model or choice.model}, redactor, tokens_in, tokens_out,
          _cost(result.model or choice.model, tokens_in, tokens_out))
    record_action("ai.chat.message", conversation, {
        "turn": question.seq, "provider": choice.provider.name, "model": conversation.model, "input_tokens": tokens_in,
        "output_tokens": tokens_out, "summarized_through": conversation.summarized_through, "leaves_installation": choice.provider.needs_key})
    return Turn(question, answer, redactor.restore(result.text), request)


def _team_settings(team):
    from .services import team_settings

    return team_settings(team)


def build_request(conversation: Conversation, choice, context: str, findings: list[Finding], recent: list[ChatMessage]) -> Request:
    system = f"{SYSTEM}\n\nContext:\n{context}"
    if conversation.summary:
        system += f"\n\nSummary of the earlier conversation:\n{conversation.summary}"
    return Request(system=system, messages=as_messages(recent), model=choice.model, max_tokens=1200, findings=findings,
                   evidence_ids=[e.id for f in findings for e in f.evidence if e.id], purpose="chat", summary=conversation.summary)


def _save(conversation: Conversation, updates: dict, redactor: Redactor, tokens_in: int, tokens_out: int, cost_usd) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(
        redaction_map=redactor.to_json(), input_tokens=F("input_tokens") + tokens_in, output_tokens=F("output_tokens") + tokens_out,
        cost_usd=F("cost_usd") + cost_usd, **updates)
    conversation.refresh_from_db()


def shown(conversation: Conversation, messages=None) -> list[dict]:
    """Messages as the person sees them (placeholders restored)."""
    redactor = conversation.redactor()
    rows = messages if messages is not None else conversation.messages.order_by("seq")
    return [message_dict(m, redactor) for m in rows]


def message_dict(message: ChatMessage, redactor: Redactor) -> dict:
    return {"id": message.pk, "seq": message.seq, "role": message.role, "content": redactor.restore(message.content),
            "error": message.error, "input_tokens": message.input_tokens, "output_tokens": message.output_tokens,
            "created_at": message.created_at.isoformat() if message.created_at else None}
