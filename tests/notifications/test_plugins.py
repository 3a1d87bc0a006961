"""The plugin interface: a third-party channel type joins through the entry-point group
`dockerforge.notification_channels` and is routed like any built-in."""

import json
import sys

import pytest

from apps.core.registries import notification_channels
from apps.notifications.models import Channel, Delivery

from .conftest import FakeHost

pytestmark = pytest.mark.django_db

PLUGIN = '''
import json
from apps.notifications.channels import ChannelType, http_post, validate_http_url


class EchoChannel(ChannelType):
    name = "echo"
    label = "Echo (test plugin)"
    secret_fields = ("url",)

    def clean(self, config, secrets):
        validate_http_url(secrets.get("url", ""))
        return {"prefix": str(config.get("prefix", ""))[:20]}

    def send(self, channel, message):
        body = {"echo": channel.config["prefix"] + message["subject"]}
        return http_post(channel.url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
'''


@pytest.fixture
def echo_plugin(tmp_path, monkeypatch):
    """A real installed distribution (dist-info with entry_points.txt) on sys.path."""
    (tmp_path / "df_echo_plugin.py").write_text(PLUGIN)
    dist = tmp_path / "df_echo_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: df-echo-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[dockerforge.notification_channels]\necho = df_echo_plugin:EchoChannel\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(notification_channels, "_plugins_loaded", False)
    yield
    notification_channels.unregister("echo")
    sys.modules.pop("df_echo_plugin", None)


def test_entry_point_plugin_channel_is_validated_routed_and_delivered(echo_plugin, two_teams, api_client, receiver, make_route, publish):
    team = two_teams["a"]["team"]
    resp = api_client(two_teams["a"]["admin"]).post("/api/v1/notification-channels/", {
        "team": team.pk, "name": "echo", "kind": "echo", "url": receiver.url(), "config": {"prefix": ">> "}}, format="json")
    assert resp.status_code == 201, resp.content
    channel = Channel.objects.get(pk=resp.json()["id"])
    make_route(team, [channel])
    publish("backup.failed", team, severity="error", host=FakeHost(1, "db-1"), summary="nightly backup failed")
    [req] = receiver.wait_for(1)
    assert json.loads(req.body) == {"echo": ">> [DockerForge] [ERROR] nightly backup failed"}
    assert Delivery.objects.get(channel=channel).status == Delivery.Status.DELIVERED


def test_a_missing_plugin_fails_the_delivery_permanently(team, make_channel):
    channel = make_channel(team, "uninstalled-thing", url="http://127.0.0.1:1/")
    from apps.notifications import services

    delivery = services.deliver(Delivery.objects.create(team=team, channel=channel, message={"subject": "s"}).pk)
    assert delivery.status == Delivery.Status.FAILED and "unknown channel type" in delivery.error
