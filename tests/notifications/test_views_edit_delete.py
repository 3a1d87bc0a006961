"""Editing and deleting channels and routes through the pages: saved, said, redirected."""

import pytest
from django.contrib.messages import get_messages

from apps.notifications.models import Channel, Route

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client, two_teams):
    client.force_login(two_teams["a"]["admin"])
    return client


@pytest.fixture
def channel(two_teams):
    return Channel.objects.create(team=two_teams["a"]["team"], name="hook", kind="webhook", url="http://127.0.0.1:9/x")


@pytest.fixture
def route(two_teams, channel):
    route = Route.objects.create(team=two_teams["a"]["team"], name="all", order=1)
    route.channels.set([channel])
    return route


def _said(resp) -> list[str]:
    return [str(m) for m in get_messages(resp.wsgi_request)]


def test_channel_edit_saves_and_goes_to_the_channel(admin, channel):
    resp = admin.post(f"/notifications/channels/{channel.pk}/edit/", {"name": "hook-2", "kind": "webhook", "enabled": "on",
                                                                     "url": "http://127.0.0.1:9/y", "smtp_security": "none"})
    assert resp.status_code == 302 and resp.url == f"/notifications/channels/{channel.pk}/", resp.content.decode()[:2000]
    channel.refresh_from_db()
    assert channel.name == "hook-2" and channel.url == "http://127.0.0.1:9/y"
    assert _said(resp) == ["Channel hook-2 saved."]
    form = admin.get(f"/notifications/channels/{channel.pk}/edit/")
    assert form.status_code == 200 and form.context["channel"] == channel


def test_channel_delete_asks_then_deletes(admin, channel):
    ask = admin.get(f"/notifications/channels/{channel.pk}/delete/")
    assert ask.status_code == 200 and ask.context["object"] == channel and ask.context["cancel"] == "notifications:channel_detail"
    resp = admin.post(f"/notifications/channels/{channel.pk}/delete/")
    assert resp.status_code == 302 and resp.url == "/notifications/channels/"
    assert not Channel.objects.filter(pk=channel.pk).exists() and _said(resp) == ["Channel hook deleted."]


def test_route_edit_saves_and_goes_to_the_list(admin, route, channel):
    resp = admin.post(f"/notifications/routes/{route.pk}/edit/", {
        "name": "alerts", "order": 2, "enabled": "on", "channels": [channel.pk], "kinds": "alert.*", "min_severity": "info",
        "hosts": "", "labels": "", "group_by": ["rule"], "quiet_bypass_severity": "critical", "digest_interval": 0})
    assert resp.status_code == 302 and resp.url == "/notifications/routes/", resp.content.decode()[:3000]
    route.refresh_from_db()
    assert route.name == "alerts" and route.kinds == ["alert.*"] and _said(resp) == ["Route alerts saved."]
    assert admin.get("/notifications/routes/add/").context["route"] is None


def test_route_delete_asks_then_deletes(admin, route):
    ask = admin.get(f"/notifications/routes/{route.pk}/delete/")
    assert ask.status_code == 200 and ask.context["cancel"] == "notifications:route_edit"
    resp = admin.post(f"/notifications/routes/{route.pk}/delete/")
    assert resp.status_code == 302 and resp.url == "/notifications/routes/"
    assert not Route.objects.filter(pk=route.pk).exists() and _said(resp) == ["Route all deleted."]
