"""The AI chat panel in headless Chromium: an operator opens the container page, starts a
conversation, sends a message (hostile markup in it) and sees the answer stream in over the
WebSocket, as text; the offline provider writes it from the live container's log."""

import time

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership, Team
from apps.ai.models import ChatMessage, Conversation
from apps.containers.models import Container
from apps.core.roles import Role
from apps.hosts.models import DockerHost
from tests.helpers import unique

from .conftest import PASSWORD, login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.docker]
PORT_CLASH = "listen tcp 0.0.0.0:8080: bind: address already in use"


@pytest.fixture
def failing_container(e2e_db, docker_socket, test_labels):
    import docker

    team = Team.objects.create(name="Chat Team", slug="chat-team")
    operator = get_user_model().objects.create_user("chat_operator", password=PASSWORD)
    Membership.objects.create(user=operator, team=team, role=Role.OPERATOR)
    host = DockerHost.objects.create(team=team, name="local", url=docker_socket, status="up")
    client = docker.DockerClient(base_url=docker_socket, version="1.41", timeout=20)
    ct = client.containers.run("dockerforge/busybox:test", ["sh", "-c", f"echo '{PORT_CLASH}' >&2; echo READY; sleep 300"],
                               detach=True, labels=dict(test_labels), name=unique("e2e-chat"))
    deadline = time.monotonic() + 10
    while b"READY" not in client.api.logs(ct.id) and time.monotonic() < deadline:
        time.sleep(0.05)
    ct.reload()
    container = Container.objects.create(team=team, host=host, docker_id=ct.id, name=ct.name, state="running", inspect=ct.attrs)
    yield operator, container
    ct.remove(force=True)
    client.close()


def test_chat_panel_streams_the_answer(new_context, failing_container, request):
    operator, container = failing_container
    page = new_context().new_page()
    dialogs, frames = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)) if "/ws/ai/chat/" in ws.url else None)
    login(page, operator.username)
    page.goto(f"/containers/{container.pk}/")
    panel = page.locator("#ai-chat-panel")
    assert "No conversation yet." in panel.inner_text()
    panel.locator("[data-chat-new]").click()
    page.wait_for_selector("#ai-chat-panel [data-chat-socket][data-chat-ready='1']")
    page.fill("#ai-chat-panel textarea[name=content]", "<img src=x onerror=alert(1)> why did it fail?")
    page.click("#ai-chat-panel [data-chat-form] button[type=submit]")
    page.wait_for_selector("#ai-chat-panel .chat-assistant[data-done='1']")
    log = panel.locator("[data-chat-log]")
    assert "<img src=x onerror=alert(1)> why did it fail?" in log.locator(".chat-user").inner_text()
    answer = log.locator(".chat-assistant").inner_text()
    assert "Port already in use" in answer and "[E1]" in answer
    assert log.locator("img, script").count() == 0 and dialogs == []
    chunks = [f for f in frames if '"type": "chunk"' in str(f)]
    assert len(chunks) > 3  # it streamed, in pieces, before the final answer
    assert str(frames[-1]).find('"type": "answer"') != -1
    conversation = Conversation.objects.get(container=container)
    assert list(ChatMessage.objects.filter(conversation=conversation).values_list("role", flat=True)) == ["user", "assistant"]
    screenshot(page, request)
