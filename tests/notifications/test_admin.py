"""The admin: team scoping, write-only secrets, the send-test action."""

import pytest

from apps.notifications.models import Channel, Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(two_teams):
    for key in ("a", "b"):
        for role in ("viewer", "admin"):
            user = two_teams[key][role]
            user.is_staff = True
            user.save()
    return two_teams


def test_staff_see_only_their_teams_channels_and_never_a_secret(client, staff):
    mine = Channel.objects.create(team=staff["a"]["team"], name="mine", kind="slack", url="http://127.0.0.1:9/very-secret")
    theirs = Channel.objects.create(team=staff["b"]["team"], name="theirs", kind="slack", url="http://127.0.0.1:9/x")
    client.force_login(staff["a"]["admin"])
    listing = client.get("/admin/notifications/channel/")
    assert b"mine" in listing.content and b"theirs" not in listing.content
    assert client.get(f"/admin/notifications/channel/{theirs.pk}/change/").status_code in (302, 404)
    change = client.get(f"/admin/notifications/channel/{mine.pk}/change/")
    assert change.status_code == 200 and b"very-secret" not in change.content


def test_admin_change_keeps_blank_secrets_and_validates(client, staff):
    channel = Channel.objects.create(team=staff["a"]["team"], name="hook", kind="webhook", url="http://127.0.0.1:9/s", signing_secret="k")
    client.force_login(staff["a"]["admin"])
    form = {"team": staff["a"]["team"].pk, "name": "hook2", "kind": "webhook", "enabled": "on", "config": "{}",
            "url": "", "password": "", "signing_secret": "", "headers": "", "rate_limit": 5, "rate_burst": 0}
    resp = client.post(f"/admin/notifications/channel/{channel.pk}/change/", form)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    channel.refresh_from_db()
    assert channel.name == "hook2" and channel.url == "http://127.0.0.1:9/s" and channel.signing_secret == "k"
    bad = client.post(f"/admin/notifications/channel/{channel.pk}/change/", {**form, "url": "gopher://x"})
    assert bad.status_code == 200 and b"Enter an http://" in bad.content


def test_viewer_staff_cannot_change_and_admin_action_sends_test(client, staff, receiver):
    channel = Channel.objects.create(team=staff["a"]["team"], name="hook", kind="webhook", url=receiver.url())
    client.force_login(staff["a"]["viewer"])
    assert client.post(f"/admin/notifications/channel/{channel.pk}/change/", {"name": "x"}).status_code == 403
    client.force_login(staff["a"]["admin"])
    resp = client.post("/admin/notifications/channel/", {"action": "send_test", "_selected_action": [channel.pk]}, follow=True)
    assert resp.status_code == 200 and b"delivered" in resp.content
    assert Delivery.objects.get(channel=channel).is_test
    for model in ("route", "delivery", "notificationgroup", "notificationitem", "deliveryattempt"):
        assert client.get(f"/admin/notifications/{model}/").status_code == 200
