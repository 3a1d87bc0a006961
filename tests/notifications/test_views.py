"""Pages: channels, routes, deliveries; "Send test" with htmx; secrets never rendered."""

import pytest

from apps.notifications.models import Channel, Delivery, Route

pytestmark = pytest.mark.django_db
SECRET_URL = "http://127.0.0.1:9/services/T0/B0/super-secret-token"


@pytest.fixture
def channel(two_teams):
    return Channel.objects.create(team=two_teams["a"]["team"], name="slack-ops", kind="slack", url=SECRET_URL)


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", ["/notifications/channels/", "/notifications/channels/{pk}/", "/notifications/routes/",
                                  "/notifications/deliveries/"])
def test_viewer_reads_pages_and_never_sees_the_secret_url(client, two_teams, channel, page):
    Delivery.objects.create(team=channel.team, channel=channel, subject="hello")
    resp = login(client, two_teams["a"]["viewer"]).get(page.format(pk=channel.pk))
    assert resp.status_code == 200
    assert b"super-secret-token" not in resp.content and b"/services/T0" not in resp.content
    if "channels" in page:
        assert b"http://127.0.0.1:9" in resp.content


def test_other_teams_channel_is_404(client, two_teams, channel):
    c = login(client, two_teams["b"]["admin"])
    for path in ("", "edit/", "delete/"):
        assert c.get(f"/notifications/channels/{channel.pk}/{path}").status_code == 404
    assert c.post(f"/notifications/channels/{channel.pk}/test/").status_code == 404


def test_roles_on_pages(client, two_teams, channel):
    viewer = login(client, two_teams["a"]["viewer"])
    assert viewer.get("/notifications/channels/add/").status_code == 403
    assert viewer.get(f"/notifications/channels/{channel.pk}/edit/").status_code == 403
    assert viewer.post(f"/notifications/channels/{channel.pk}/test/").status_code == 403
    assert viewer.get("/notifications/routes/add/").status_code == 403
    assert b"Send test" not in viewer.get(f"/notifications/channels/{channel.pk}/").content


def test_send_test_button_with_htmx_returns_the_result_panel(client, two_teams, receiver):
    channel = Channel.objects.create(team=two_teams["a"]["team"], name="hook", kind="webhook", url=receiver.url())
    c = login(client, two_teams["a"]["operator"])
    page = c.get(f"/notifications/channels/{channel.pk}/")
    assert b"Send test" in page.content and b'hx-post="/notifications/channels/' in page.content
    resp = c.post(f"/notifications/channels/{channel.pk}/test/", HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    assert b'id="test-result"' in resp.content and b"Test delivered" in resp.content
    assert b"<html" not in resp.content  # just the partial
    assert len(receiver.requests) == 1
    receiver.answer((410, {}, "gone"))
    failed = c.post(f"/notifications/channels/{channel.pk}/test/", HTTP_HX_REQUEST="true")
    assert b"Test failed" in failed.content and b"HTTP 410" in failed.content


def test_admin_adds_an_email_channel_and_a_route_through_the_forms(client, two_teams, smtp_server):
    c = login(client, two_teams["a"]["admin"])
    resp = c.post("/notifications/channels/add/", {
        "name": "mail", "kind": "email", "enabled": "on", "recipients": "ops@example.test, dev@example.test",
        "smtp_host": "127.0.0.1", "smtp_port": smtp_server.port, "smtp_security": "none", "password": "pw-1",
    })
    assert resp.status_code == 302, resp.content.decode()[:2000]
    channel = Channel.objects.get(name="mail")
    assert channel.config["recipients"] == ["ops@example.test", "dev@example.test"] and channel.password == "pw-1"
    edit = c.get(f"/notifications/channels/{channel.pk}/edit/")
    assert b"pw-1" not in edit.content and b"A password is stored" in edit.content
    resp = c.post("/notifications/routes/add/", {
        "name": "prod alerts", "order": 10, "enabled": "on", "channels": [channel.pk], "kinds": "alert.*\nhost.down",
        "min_severity": "warning", "hosts": "prod-*", "labels": "env=prod", "group_by": ["rule", "host"],
        "quiet_bypass_severity": "critical", "digest_interval": 60,
    })
    assert resp.status_code == 302, resp.content.decode()[:3000]
    route = Route.objects.get(name="prod alerts")
    assert route.kinds == ["alert.*", "host.down"] and route.labels == {"env": "prod"} and list(route.channels.all()) == [channel]


def test_webhook_form_generates_a_signing_secret_shown_once(client, two_teams):
    c = login(client, two_teams["a"]["admin"])
    resp = c.post("/notifications/channels/add/", {"name": "wh", "kind": "webhook", "enabled": "on",
                                                   "url": "http://127.0.0.1:9/x", "smtp_security": "starttls"}, follow=True)
    channel = Channel.objects.get(name="wh")
    assert len(channel.signing_secret) >= 32
    assert channel.signing_secret.encode() in resp.content  # once, right after creation
    assert channel.signing_secret.encode() not in c.get(f"/notifications/channels/{channel.pk}/").content


def test_form_errors_are_field_errors_not_500(client, two_teams):
    """The form comes back (200) with the error on its field (the house contract)."""
    c = login(client, two_teams["a"]["admin"])
    resp = c.post("/notifications/channels/add/", {"name": "x", "kind": "webhook", "url": "not a url", "smtp_security": "none"})
    assert resp.status_code == 200 and b"Enter an http:// or https:// URL" in resp.content
    resp = c.post("/notifications/channels/add/", {"name": "x" * 500, "kind": "email", "recipients": "nope", "smtp_security": "none"})
    assert resp.status_code == 200
    resp = c.post("/notifications/routes/add/", {"name": "r", "order": 1, "kinds": "BAD KIND", "min_severity": "info",
                                                 "quiet_start": "22:00", "quiet_bypass_severity": "critical", "digest_interval": 60})
    assert resp.status_code == 200 and b"not a valid entry" in resp.content


def test_delivery_pages_show_attempts_and_folding(client, two_teams, channel):
    carrier = Delivery.objects.create(team=channel.team, channel=channel, subject="carrier", status="delivered")
    Delivery.objects.create(team=channel.team, channel=channel, subject="rode along", status="folded", folded_into=carrier)
    c = login(client, two_teams["a"]["viewer"])
    page = c.get(f"/notifications/deliveries/{carrier.pk}/")
    assert page.status_code == 200 and b"rode along" in page.content
    filtered = c.get("/notifications/deliveries/?status=folded", HTTP_HX_REQUEST="true")
    assert b"rode along" in filtered.content and b"carrier" not in filtered.content
