"""Renaming and deleting conversations: operators and admins of the conversation's team, through
the API and the conversation page; viewers get 403, other teams 404; both are audited."""

import pytest
from django.test import Client

from apps.activity.models import AuditEvent
from apps.ai import chat
from apps.ai.models import ChatMessage, Conversation
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(two_teams):
    conv = chat.start(two_teams["a"]["operator"], team=two_teams["a"]["team"], title="Why is web down?")
    ChatMessage.objects.create(conversation=conv, seq=1, role="user", content="hello")
    return conv


def test_api_rename_roles_validation_and_audit(two_teams, conversation):
    url = f"/api/v1/conversations/{conversation.pk}/"
    viewer, operator = api_client_for(two_teams["a"]["viewer"]), api_client_for(two_teams["a"]["operator"])
    outsider = api_client_for(two_teams["b"]["admin"])
    assert viewer.patch(url, {"title": "mine now"}, format="json").status_code == 403
    assert outsider.patch(url, {"title": "mine now"}, format="json").status_code == 404
    blank = operator.patch(url, {"title": "   "}, format="json")
    assert blank.status_code == 400 and "title" in blank.json()["error"]["details"]
    long = operator.patch(url, {"title": "x" * 201}, format="json")
    assert long.status_code == 400 and "title" in long.json()["error"]["details"]
    renamed = operator.patch(url, {"title": "  Port   clash on web-7 "}, format="json")
    assert renamed.status_code == 200 and renamed.json()["title"] == "Port clash on web-7"
    assert operator.put(url, {"title": "Again"}, format="json").json()["title"] == "Again"
    conversation.refresh_from_db()
    assert conversation.title == "Again"
    audit = AuditEvent.objects.filter(object_id=str(conversation.pk), action="update").order_by("-id").first()
    assert audit is not None and audit.actor_id == two_teams["a"]["operator"].pk
    assert audit.after.get("title") == "Again" and audit.before.get("title") == "Port clash on web-7"


def test_api_delete_roles_and_audit(two_teams, conversation):
    url = f"/api/v1/conversations/{conversation.pk}/"
    viewer, admin = api_client_for(two_teams["a"]["viewer"]), api_client_for(two_teams["a"]["admin"])
    assert viewer.delete(url).status_code == 403
    assert api_client_for(two_teams["b"]["operator"]).delete(url).status_code == 404
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    assert admin.delete(url).status_code == 204
    assert not Conversation.objects.filter(pk=conversation.pk).exists() and not ChatMessage.objects.exists()
    assert AuditEvent.objects.filter(object_id=str(conversation.pk), action="delete").exists()
    assert admin.delete(url).status_code == 404


def test_page_rename_and_delete_button(two_teams, conversation):
    viewer, operator, outsider = Client(), Client(), Client()
    viewer.force_login(two_teams["a"]["viewer"])
    operator.force_login(two_teams["a"]["operator"])
    outsider.force_login(two_teams["b"]["admin"])
    page = f"/ai/conversations/{conversation.pk}/"
    assert b"data-conversation-delete" not in viewer.get(page).content  # viewers read, no buttons
    assert b"data-conversation-delete" in operator.get(page).content and b"data-conversation-rename" in operator.get(page).content
    assert viewer.post(f"{page}rename/", {"title": "x"}).status_code == 403
    assert viewer.post(f"{page}delete/").status_code == 403
    assert outsider.post(f"{page}delete/").status_code == 404
    assert operator.post(f"{page}rename/", {"title": "<b>bold</b> title"}).status_code == 302
    shown = operator.get(page).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt; title" in shown and "<b>bold</b>" not in shown
    gone = operator.post(f"{page}delete/")
    assert gone.status_code == 302 and gone["Location"] == "/ai/"  # no container or alert: the AI page
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert operator.get(page).status_code == 404
