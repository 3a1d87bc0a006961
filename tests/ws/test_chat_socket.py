"""/ws/ai/chat/<id>/ through the real ASGI application: the answer streams in order to every
socket of the conversation, placeholders restored; other teams are refused before accept;
viewers watch but may not send. The provider is the real Claude SDK against the fake server."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.accounts.models import ApiToken
from apps.ai import chat
from apps.ai.models import AIProviderSettings, ChatMessage
from dockerforge.asgi import application
from tests.ai.fake_llm import FakeLLM, Reply, anthropic_sse

from .conftest import session_headers

pytestmark = pytest.mark.django_db(transaction=True)
QUIET = 0.3


@pytest.fixture
def fake_llm(settings):
    settings.AI_PROVIDER_BACKOFF = 0.01
    server = FakeLLM()
    yield server
    server.close()


@pytest.fixture
def conversation(two_teams, fake_llm):
    team = two_teams["a"]["team"]
    AIProviderSettings.objects.create(team=team, provider="claude", api_key="sk-ant-k", base_url=fake_llm.url)
    conv = chat.start(two_teams["a"]["operator"], team=team)
    redactor = conv.redactor()
    redactor.placeholder("SECRET", "hunter2-canary")  # as if an earlier turn had redacted it
    conv.redaction_map = redactor.to_json()
    conv.save()
    return conv


async def receive_until(comm, kind: str, timeout: float = 10) -> list[dict]:
    got = []
    while True:
        message = await comm.receive_json_from(timeout=timeout)
        got.append(message)
        if message["type"] in (kind, "error"):
            return got


def test_answer_streams_in_order_to_every_socket_of_the_conversation(in_memory_layer, two_teams, conversation, fake_llm):
    parts = ["First ", "the pass", "word [SEC", "RET_1] ", "leaked."]
    fake_llm.replies = [Reply(sse=anthropic_sse(parts))]
    operator, viewer = session_headers(Client(), two_teams["a"]["operator"]), session_headers(Client(), two_teams["a"]["viewer"])
    path = f"/ws/ai/chat/{conversation.pk}/"

    async def scenario():
        sender, watcher = WebsocketCommunicator(application, path, operator), WebsocketCommunicator(application, path, viewer)
        assert (await sender.connect(timeout=5))[0] and (await watcher.connect(timeout=5))[0]
        assert (await sender.receive_json_from())["can_send"] is True
        assert (await watcher.receive_json_from())["can_send"] is False
        await sender.send_json_to({"type": "message", "content": "What leaked?"})
        for sock in (sender, watcher):
            got = await receive_until(sock, "answer")
            kinds = [m["type"] for m in got]
            assert kinds[0] == "question" and kinds[-1] == "answer" and set(kinds[1:-1]) == {"chunk"}
            chunks = [m["text"] for m in got[1:-1]]
            assert "".join(chunks) == "First the password hunter2-canary leaked."  # order kept, placeholder restored
            assert len(chunks) >= 3 and not any("[SEC" in c for c in chunks)
            assert got[0]["message"]["content"] == "What leaked?" and got[-1]["message"]["content"] == "".join(chunks)
        # A viewer may watch, not send.
        await watcher.send_json_to({"type": "message", "content": "me too"})
        assert "may read" in (await watcher.receive_json_from(timeout=5))["message"]
        assert await sender.receive_nothing(timeout=QUIET)
        await sender.disconnect()
        await watcher.disconnect()

    async_to_sync(scenario)()
    assert list(ChatMessage.objects.filter(conversation=conversation).values_list("role", flat=True)) == ["user", "assistant"]
    assert fake_llm.requests[0]["json"]["stream"] is True and len(fake_llm.requests) == 1


def test_other_team_is_refused_before_accept(in_memory_layer, two_teams, conversation):
    path = f"/ws/ai/chat/{conversation.pk}/"
    other_team = session_headers(Client(), two_teams["b"]["admin"])

    async def scenario():
        comm = WebsocketCommunicator(application, path, other_team)
        connected, code = await comm.connect(timeout=5)
        assert not connected and code == 4404
        anonymous = WebsocketCommunicator(application, path, [(b"origin", b"http://127.0.0.1:8000")])
        connected, code = await anonymous.connect(timeout=5)
        assert not connected

    async_to_sync(scenario)()


def test_token_client_streams_the_offline_answer(in_memory_layer, two_teams):
    """The CLI's way in: no Origin, an API token; the offline provider yields chunks."""
    operator = two_teams["a"]["operator"]
    conv = chat.start(operator, team=two_teams["a"]["team"])
    _, raw = ApiToken.issue(operator, "chat-ws")

    async def scenario():
        comm = WebsocketCommunicator(application, f"/ws/ai/chat/{conv.pk}/", [(b"authorization", f"Token {raw}".encode())])
        assert (await comm.connect(timeout=5))[0]
        await comm.receive_json_from()
        await comm.send_json_to({"type": "message", "content": "why?"})
        got = await receive_until(comm, "answer")
        await comm.disconnect()
        return got

    got = async_to_sync(scenario)()
    chunks = [m["text"] for m in got if m["type"] == "chunk"]
    assert got[-1]["type"] == "answer" and "".join(chunks) == got[-1]["message"]["content"]
    assert "no known failure signature" in got[-1]["message"]["content"]


def test_each_turn_is_audited_without_its_text(in_memory_layer, two_teams):
    from apps.activity.models import AuditEvent

    operator = two_teams["a"]["operator"]
    conv = chat.start(operator, team=two_teams["a"]["team"])
    headers = session_headers(Client(), operator)

    async def scenario():
        comm = WebsocketCommunicator(application, f"/ws/ai/chat/{conv.pk}/", headers)
        assert (await comm.connect(timeout=5))[0]
        await comm.receive_json_from()
        await comm.send_json_to({"type": "message", "content": "why? secret-words-123"})
        await receive_until(comm, "answer")
        await comm.disconnect()

    async_to_sync(scenario)()
    event = AuditEvent.objects.get(name="ai.chat.message", object_id=str(conv.pk))
    assert event.actor_id == operator.pk and event.via == "ui" and event.after["turn"] == 1
    assert event.after["provider"] == "offline" and "secret-words-123" not in str(event.after)
