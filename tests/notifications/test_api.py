"""API: the role x action matrix, secrets write-only, structured field errors, send test."""

import pytest

from apps.notifications.models import Channel, Delivery, Route

pytestmark = pytest.mark.django_db

CHANNELS = "/api/v1/notification-channels/"


def _channel(team, url="http://127.0.0.1:1/hook/secret-path?token=abc", **fields):
    return Channel.objects.create(team=team, name=fields.pop("name", "hook"), kind="webhook", url=url,
                                  signing_secret="sig", **fields)


MATRIX = {
    # name: (method, path, body, expected by role)
    "list channels": ("get", CHANNELS, None, {"viewer": 200, "operator": 200, "admin": 200}),
    "read channel": ("get", CHANNELS + "{pk}/", None, {"viewer": 200, "operator": 200, "admin": 200}),
    "change channel": ("patch", CHANNELS + "{pk}/", {"enabled": False}, {"viewer": 403, "operator": 403, "admin": 200}),
    "send test": ("post", CHANNELS + "{pk}/test/", None, {"viewer": 403, "operator": 200, "admin": 200}),
    "delete channel": ("delete", CHANNELS + "{pk}/", None, {"viewer": 403, "operator": 403, "admin": 204}),
    "list routes": ("get", "/api/v1/routes/", None, {"viewer": 200, "operator": 200, "admin": 200}),
    "change route": ("patch", "/api/v1/routes/{route}/", {"order": 5}, {"viewer": 403, "operator": 403, "admin": 200}),
    "read deliveries": ("get", "/api/v1/deliveries/{delivery}/", None, {"viewer": 200, "operator": 200, "admin": 200}),
}


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize("name", list(MATRIX))
def test_role_matrix(two_teams, api_client, receiver, role, name):
    method, path, body, expected = MATRIX[name]
    a = two_teams["a"]
    channel = _channel(a["team"], url=receiver.url())
    route = Route.objects.create(team=a["team"], name="r")
    delivery = Delivery.objects.create(team=a["team"], channel=channel, subject="s")
    path = path.format(pk=channel.pk, route=route.pk, delivery=delivery.pk)
    resp = getattr(api_client(a[role]), method)(path, body, format="json")
    assert resp.status_code == expected[role], resp.content
    if "{" in MATRIX[name][1]:  # the same role in another team sees nothing of this one
        assert getattr(api_client(two_teams["b"][role]), method)(path, body, format="json").status_code == 404


def test_secrets_are_write_only_and_the_url_shows_scheme_and_host(two_teams, api_client):
    admin = api_client(two_teams["a"]["admin"])
    resp = admin.post(CHANNELS, {"team": two_teams["a"]["team"].pk, "name": "ops", "kind": "webhook",
                                 "url": "http://127.0.0.1:9/hooks/T0/very-secret", "signing_secret": "shh",
                                 "headers": {"Authorization": "Bearer xyz"}}, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    text = resp.content.decode()
    assert "very-secret" not in text and "shh" not in text and "xyz" not in text
    assert body["url_hint"] == "http://127.0.0.1:9"
    assert body["has_signing_secret"] is True and body["header_names"] == ["Authorization"]
    channel = Channel.objects.get(pk=body["id"])
    assert channel.url.endswith("very-secret")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT url, signing_secret, headers FROM notifications_channel WHERE id = %s", [channel.pk])
        stored = " ".join(cursor.fetchone())
    assert "very-secret" not in stored and "shh" not in stored and "xyz" not in stored  # encrypted at rest
    # A PATCH without secrets keeps them.
    assert admin.patch(f"{CHANNELS}{channel.pk}/", {"name": "ops2"}, format="json").status_code == 200
    channel.refresh_from_db()
    assert channel.signing_secret == "shh" and channel.url.endswith("very-secret")


@pytest.mark.parametrize("body, field", [
    ({"kind": "webhook", "name": "x", "url": "ftp://127.0.0.1/x"}, "url"),
    ({"kind": "webhook", "name": "x", "url": "http://user:pw@127.0.0.1/x"}, "url"),
    ({"kind": "webhook", "name": "x"}, "url"),
    ({"kind": "webhook", "name": "x", "url": "http://127.0.0.1/x", "headers": {"Bad Name": "v"}}, "headers"),
    ({"kind": "webhook", "name": "x", "url": "http://127.0.0.1/x", "headers": {"Content-Type": "v"}}, "headers"),
    ({"kind": "email", "name": "x", "config": {"recipients": ["not-an-address"]}}, "recipients"),
    ({"kind": "email", "name": "x", "config": {"recipients": ["a@b.test"], "smtp_port": 99999}}, "smtp_port"),
    ({"kind": "carrier-pigeon", "name": "x"}, "kind"),
    ({"kind": "webhook", "name": "", "url": "http://127.0.0.1/x"}, "name"),
    ({"kind": "slack", "name": "x", "url": "http://127.0.0.1/x", "rate_limit": -1}, "rate_limit"),
])
def test_bad_channel_input_is_a_field_error(two_teams, api_client, body, field):
    resp = api_client(two_teams["a"]["admin"]).post(CHANNELS, {"team": two_teams["a"]["team"].pk, **body}, format="json")
    assert resp.status_code == 400, resp.content
    assert field in resp.json()["error"]["details"], resp.json()


def test_address_policy_is_checked_at_save(two_teams, api_client, settings):
    settings.OUTBOUND_ALLOW = []
    resp = api_client(two_teams["a"]["admin"]).post(CHANNELS, {"team": two_teams["a"]["team"].pk, "name": "x", "kind": "slack",
                                                               "url": "http://127.0.0.1:9/x"}, format="json")
    assert resp.status_code == 400
    assert "loopback" in str(resp.json()["error"]["details"]["url"])


def test_routes_refuse_another_teams_channel_and_bad_matchers(two_teams, api_client):
    mine, theirs = _channel(two_teams["a"]["team"]), _channel(two_teams["b"]["team"])
    client = api_client(two_teams["a"]["admin"])
    ok = client.post("/api/v1/routes/", {"team": two_teams["a"]["team"].pk, "name": "r", "channels": [mine.pk],
                                         "kinds": ["alert.*"], "labels": {"env": "prod"}, "group_by": ["rule", "host"]},
                     format="json")
    assert ok.status_code == 201, ok.content
    assert ok.json()["kinds"] == ["alert.*"]
    bad = client.post("/api/v1/routes/", {"team": two_teams["a"]["team"].pk, "name": "r2", "channels": [theirs.pk]}, format="json")
    assert bad.status_code == 400 and "channels" in bad.json()["error"]["details"]
    bad = client.post("/api/v1/routes/", {"team": two_teams["a"]["team"].pk, "name": "r3", "kinds": ["Not A Kind!"],
                                          "group_by": ["nope"], "quiet_start": "22:00"}, format="json")
    details = bad.json()["error"]["details"]
    assert bad.status_code == 400 and {"kinds", "group_by", "quiet_end"} <= set(details)
    dup = client.post("/api/v1/routes/", {"team": two_teams["a"]["team"].pk, "name": "r"}, format="json")
    assert dup.status_code == 400 and "name" in dup.json()["error"]["details"]


def test_send_test_through_the_api_reaches_the_server_and_is_audited(two_teams, api_client, receiver):
    from apps.activity.models import AuditEvent

    channel = _channel(two_teams["a"]["team"], url=receiver.url())
    resp = api_client(two_teams["a"]["operator"]).post(f"{CHANNELS}{channel.pk}/test/")
    assert resp.status_code == 200
    assert resp.json()["status"] == "delivered" and resp.json()["attempt_log"][0]["response_code"] == 200
    assert receiver.requests[0].json()["test"] is True
    assert AuditEvent.objects.filter(name="send_test", object_id=str(channel.pk)).exists()


def test_deliveries_list_shows_attempts(two_teams, api_client, receiver):
    channel = _channel(two_teams["a"]["team"], url=receiver.url())
    receiver.answer((404, {}, "nope"))
    api_client(two_teams["a"]["admin"]).post(f"{CHANNELS}{channel.pk}/test/")
    rows = api_client(two_teams["a"]["viewer"]).get("/api/v1/deliveries/").json()["results"]
    assert rows[0]["status"] == "failed" and rows[0]["attempt_log"][0]["status"] == "permanent"
    assert api_client(two_teams["b"]["viewer"]).get("/api/v1/deliveries/").json()["results"] == []
