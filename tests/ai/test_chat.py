"""Chat with memory on the real engine: the context is the container's (busybox via
dockerforge/busybox:test), the providers are the offline one and the real SDKs against the
fake Claude/Gemini servers on 127.0.0.1."""

import pytest

from apps.ai import chat
from apps.ai.models import AIProviderSettings, ChatMessage, Conversation
from apps.ai.redaction import Redactor
from tests.conftest import api_client_for

from .conftest import mirror
from .fake_llm import Reply, anthropic_message, anthropic_sse, gemini_sse

CANARY = "canary-chat-9d1e7a2b"
LOG = "listen tcp 0.0.0.0:8080: bind: address already in use"


@pytest.fixture
def busy_port(replay, local_host):
    """A container that failed because its port was taken, with a secret in its env."""
    ct = replay(f"starting server\n{LOG}", 1, env={"API_TOKEN": CANARY})
    replay.wait([ct])
    return mirror(local_host, ct)


def claude_team(team, url):
    AIProviderSettings.objects.create(team=team, provider="claude", api_key="sk-ant-team-key", base_url=url)


def _conversation(user, container) -> Conversation:
    return chat.start(user, team=container.team, container=container)


@pytest.mark.docker
@pytest.mark.django_db
def test_offline_follow_up_resolves_from_memory(busy_port, two_teams):
    operator = two_teams["a"]["operator"]
    conversation = _conversation(operator, busy_port)
    first = chat.send(conversation, operator, "Why did it stop?")
    assert "port" in first.text.lower() and "[E1]" in first.text  # from the detector findings, cited
    chat.send(conversation, operator, "How do I fix it?")
    follow = chat.send(conversation, operator, "What was the first thing you said?")
    first_line = first.text.splitlines()[0]
    assert f'Earlier I said: "{first_line}"' in follow.text
    assert [m.role for m in conversation.messages.order_by("seq")] == ["user", "assistant"] * 3
    assert conversation.provider == "offline" and conversation.title == "Why did it stop?"


@pytest.mark.docker
@pytest.mark.django_db
def test_claude_follow_up_carries_the_earlier_answer_and_context_redacted(busy_port, two_teams, fake_llm):
    operator = two_teams["a"]["operator"]
    claude_team(busy_port.team, fake_llm.url)
    fake_llm.replies = [Reply(body=anthropic_message("Port 8080 is taken by another process [E1]; the key was [SECRET_1].")),
                        Reply(body=anthropic_message("I said port 8080 was taken."))]
    conversation = _conversation(operator, busy_port)
    first = chat.send(conversation, operator, "Why did it stop?")
    assert CANARY in first.text  # the placeholder restored for the person
    chat.send(conversation, operator, "What did you say about that error?")
    sent = fake_llm.requests[1]["json"]
    assert sent["messages"][:2] == [{"role": "user", "content": "Why did it stop?"},
                                    {"role": "assistant", "content": "Port 8080 is taken by another process [E1]; the key was [SECRET_1]."}]
    assert sent["messages"][2] == {"role": "user", "content": "What did you say about that error?"}
    assert LOG.split(": ")[-1] in sent["system"] and "[SECRET_1]" in sent["system"]  # the context was sent, redacted
    assert CANARY not in str(fake_llm.requests)
    stored = ChatMessage.objects.filter(conversation=conversation, role="assistant").first()
    assert CANARY not in stored.content and "[SECRET_1]" in stored.content  # stored as received
    conversation.refresh_from_db()
    assert conversation.input_tokens == 240 and conversation.output_tokens == 60 and conversation.cost_usd > 0


@pytest.mark.docker
@pytest.mark.django_db
def test_past_the_budget_older_turns_are_summarised_not_dropped(busy_port, two_teams, fake_llm, settings):
    settings.AI_CHAT_MEMORY_TOKENS = 40
    operator = two_teams["a"]["operator"]
    claude_team(busy_port.team, fake_llm.url)
    old_question = "Remember: the on-call engineer is Marguerite and the ticket is OPS-4417."
    old_answer = "Noted: Marguerite is on call, ticket OPS-4417, and port 8080 is taken [E1]."
    fake_llm.replies = [
        Reply(body=anthropic_message(old_answer)),
        Reply(body=anthropic_message("Summary: on-call Marguerite; ticket OPS-4417; port 8080 taken [E1].")),  # the fold
        Reply(body=anthropic_message("Marguerite, ticket OPS-4417.")),
    ]
    conversation = _conversation(operator, busy_port)
    chat.send(conversation, operator, old_question)
    chat.send(conversation, operator, "Who is on call and what is the ticket? Answer from what we said at the very start of this chat, please.")
    fold, answer = fake_llm.requests[1]["json"], fake_llm.requests[2]["json"]
    assert fold["system"] == chat.SUMMARY_SYSTEM and old_question in str(fold["messages"])  # the old turns went to the summary
    assert "Summary: on-call Marguerite; ticket OPS-4417" in answer["system"]  # the request carries the summary ...
    assert old_question not in str(answer["messages"]) and old_answer not in str(answer["messages"])  # ... not the raw turns
    conversation.refresh_from_db()
    assert "Marguerite" in conversation.summary and conversation.summarized_through == 2
    assert conversation.messages.count() == 4  # nothing deleted


@pytest.mark.docker
@pytest.mark.django_db
def test_offline_summary_is_extractive_and_answers_from_it(busy_port, two_teams, settings):
    settings.AI_CHAT_MEMORY_TOKENS = 30
    operator = two_teams["a"]["operator"]
    conversation = _conversation(operator, busy_port)
    first = chat.send(conversation, operator, "Why did it stop? The release is blue-kestrel-7.")
    chat.send(conversation, operator, "How do I fix it?")
    follow = chat.send(conversation, operator, "What was the first thing you said?")
    conversation.refresh_from_db()
    assert conversation.summarized_through >= 2
    assert "blue-kestrel-7" in conversation.summary and "User asked: Why did it stop?" in conversation.summary
    assert "Why did it stop? The release is blue-kestrel-7." not in str(follow.request.messages)  # folded, not sent raw
    assert "blue-kestrel-7" in follow.request.system  # the summary is sent
    first_words = " ".join(first.text.split())[:60]
    assert "Earlier I said:" in follow.text and first_words in " ".join(follow.text.split())


@pytest.mark.docker
@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["claude", "gemini"])
def test_streaming_restores_a_placeholder_split_over_chunks(busy_port, two_teams, fake_llm, provider):
    operator = two_teams["a"]["operator"]
    AIProviderSettings.objects.create(team=busy_port.team, provider=provider, api_key="team-key", base_url=fake_llm.url)
    parts = ["The process ", "was given [SEC", "RET_1] and ", "port 8080 ", "is taken [E1]."]
    fake_llm.replies = [Reply(sse=anthropic_sse(parts) if provider == "claude" else gemini_sse(parts))]
    seen: list[str] = []
    turn = chat.send(_conversation(operator, busy_port), operator, "Why?", on_text=seen.append)
    assert "".join(seen) == f"The process was given {CANARY} and port 8080 is taken [E1]." == turn.text
    assert len(seen) >= 4 and not any("[SEC" in chunk for chunk in seen)  # streamed, and never half a placeholder


def test_stream_restorer_holds_only_what_may_be_a_placeholder():
    redactor = Redactor()
    token = redactor.placeholder("IP", "10.1.2.3")
    restorer = chat.StreamRestorer(redactor)
    out = [restorer.feed("host ["), restorer.feed("IP_"), restorer.feed("1] and [E1] and [x"), restorer.feed("y] end ["), restorer.flush()]
    assert token == "[IP_1]" and out == ["host ", "", "10.1.2.3 and [E1] and [x", "y] end ", "["]


@pytest.mark.docker
@pytest.mark.django_db
def test_api_conversations_roles_and_send(busy_port, two_teams):
    viewer, operator = api_client_for(two_teams["a"]["viewer"]), api_client_for(two_teams["a"]["operator"])
    other = api_client_for(two_teams["b"]["admin"])
    assert viewer.post("/api/v1/conversations/", {"container": busy_port.pk}, format="json").status_code == 403
    assert other.post("/api/v1/conversations/", {"container": busy_port.pk}, format="json").status_code in (403, 404)
    bad = operator.post("/api/v1/conversations/", {}, format="json")
    assert bad.status_code == 400 and "non_field_errors" in str(bad.json())
    created = operator.post("/api/v1/conversations/", {"container": busy_port.pk}, format="json")
    assert created.status_code == 201 and created.json()["target_kind"] == "container"
    cid = created.json()["id"]
    assert viewer.post(f"/api/v1/conversations/{cid}/messages/", {"content": "hi"}, format="json").status_code == 403
    assert other.get(f"/api/v1/conversations/{cid}/").status_code == 404
    empty = operator.post(f"/api/v1/conversations/{cid}/messages/", {"content": "  "}, format="json")
    assert empty.status_code == 400 and "content" in str(empty.json())
    sent = operator.post(f"/api/v1/conversations/{cid}/messages/", {"content": f"Why did it stop? key {CANARY}"}, format="json")
    assert sent.status_code == 200, sent.content
    body = sent.json()
    assert body["answer"]["role"] == "assistant" and "port" in body["answer"]["content"].lower()
    assert body["question"]["content"] == f"Why did it stop? key {CANARY}"  # restored for the person ...
    assert CANARY not in ChatMessage.objects.get(pk=body["question"]["id"]).content  # ... never stored in plaintext
    listed = viewer.get(f"/api/v1/conversations/{cid}/messages/")
    assert listed.status_code == 200 and [m["role"] for m in listed.json()] == ["user", "assistant"]
    assert viewer.get(f"/api/v1/conversations/?container={busy_port.pk}").json()["count"] == 1


@pytest.mark.docker
@pytest.mark.django_db
def test_pages_panel_start_send_escaped_and_scoped(busy_port, two_teams, client):
    from django.test import Client

    operator, viewer, other = two_teams["a"]["operator"], two_teams["a"]["viewer"], two_teams["b"]["admin"]
    client.force_login(operator)
    page = client.get(f"/containers/{busy_port.pk}/")
    assert page.status_code == 200 and b'id="ai-chat-panel"' in page.content and b"No conversation yet." in page.content
    started = client.post(f"/ai/containers/{busy_port.pk}/chat/", {"next": f"/containers/{busy_port.pk}/"})
    assert started.status_code == 302 and started["Location"] == f"/containers/{busy_port.pk}/"
    conversation = Conversation.objects.get(container=busy_port)
    answer = client.post(f"/ai/conversations/{conversation.pk}/send/", {"content": "<script>alert(1)</script> why?"},
                         HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in answer.content and b"<script>alert" not in answer.content
    assert answer.content.count(b"chat-msg") == 2
    page = client.get(f"/containers/{busy_port.pk}/")
    assert f'data-chat-socket="/ws/ai/chat/{conversation.pk}/"'.encode() in page.content and b"data-chat-form" in page.content
    assert client.get(f"/ai/conversations/{conversation.pk}/").status_code == 200

    as_viewer = Client()
    as_viewer.force_login(viewer)
    assert b"data-chat-form" not in as_viewer.get(f"/containers/{busy_port.pk}/").content  # reads, cannot send
    assert as_viewer.post(f"/ai/conversations/{conversation.pk}/send/", {"content": "hi"}).status_code == 403
    assert as_viewer.post(f"/ai/containers/{busy_port.pk}/chat/").status_code == 403
    as_other = Client()
    as_other.force_login(other)
    assert as_other.get(f"/ai/conversations/{conversation.pk}/").status_code == 404
    assert as_other.post(f"/ai/conversations/{conversation.pk}/send/", {"content": "hi"}).status_code == 404
    assert conversation.messages.count() == 2


@pytest.mark.docker
@pytest.mark.django_db
def test_incident_chat_carries_the_alert_and_its_container(busy_port, two_teams, client, fake_llm):
    from apps.alerts.models import Alert, AlertRule

    team, operator = busy_port.team, two_teams["a"]["operator"]
    claude_team(team, fake_llm.url)
    fake_llm.default = Reply(body=anthropic_message("The container exited after the port clash [E1]."))
    rule = AlertRule.objects.create(team=team, name="Container died", kind="event", event="died_nonzero")
    alert = Alert.objects.create(team=team, rule=rule, fingerprint="f" * 40, status="firing", target_kind="container",
                                 target_id=busy_port.pk, target_name=busy_port.name, summary="web-7 exited with code 1")
    client.force_login(operator)
    page = client.get(f"/alerts/{alert.pk}/")
    assert page.status_code == 200 and b'id="ai-chat-panel"' in page.content
    client.post(f"/ai/alerts/{alert.pk}/chat/")
    conversation = Conversation.objects.get(alert=alert)
    assert conversation.target_kind == "alert" and "Container died" in conversation.target_name
    turn = chat.send(conversation, operator, "What happened?")
    system = fake_llm.requests[0]["json"]["system"]
    assert "Incident: alert Container died" in system and "web-7 exited with code 1" in system  # the alert ...
    assert "address already in use" in system  # ... and its container's log
    assert turn.text == "The container exited after the port clash [E1]."


def test_summary_stays_bounded_keeping_the_start_and_the_newest():
    from django.test import override_settings

    lines = [f"User asked: question number {i}" for i in range(200)]
    with override_settings(AI_CHAT_SUMMARY_CHARS=300):
        capped = chat.cap_summary("\n".join(lines))
    assert len(capped) <= 300 and capped.startswith("User asked: question number 0\nUser asked: question number 1\n…")
    assert capped.endswith("question number 199")


def test_split_memory_keeps_the_question_and_starts_on_a_user_turn():
    turns = [ChatMessage(seq=i, role="user" if i % 2 else "assistant", content="x" * 200) for i in range(1, 8)]
    older, recent = chat.split_memory(turns, budget=120)
    assert [m.seq for m in recent] == [7] and [m.seq for m in older] == [1, 2, 3, 4, 5, 6]
    older, recent = chat.split_memory(turns, budget=160)
    assert [m.seq for m in recent] == [5, 6, 7] and recent[0].role == "user"


@pytest.mark.django_db
def test_provider_failure_is_a_502_and_the_failed_question_leaves_memory(two_teams, fake_llm):
    team, operator = two_teams["a"]["team"], two_teams["a"]["operator"]
    claude_team(team, fake_llm.url)
    conversation = chat.start(operator, team=team)
    fake_llm.replies = [Reply(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
                        Reply(body=anthropic_message("Second try answered."))]
    client = api_client_for(operator)
    failed = client.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"content": "first, lost"}, format="json")
    assert failed.status_code == 502 and "API key" in failed.json()["error"]["message"]
    assert ChatMessage.objects.get(conversation=conversation, seq=1).error
    ok = client.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"content": "second"}, format="json")
    assert ok.status_code == 200 and ok.json()["answer"]["content"] == "Second try answered."
    assert fake_llm.requests[1]["json"]["messages"] == [{"role": "user", "content": "second"}]
    shown = client.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()
    assert [(m["seq"], m["role"], bool(m["error"])) for m in shown] == [(1, "user", True), (2, "user", False), (3, "assistant", False)]
