"""The console script's alerts and notify commands against the live daphne server: an alert
rule made through the API and an open alert row in the server's database (alerts are
read-only in the API: the evaluator writes them), a webhook channel pointing at a real HTTP
receiver on 127.0.0.1 started here."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership
from apps.alerts.models import Alert, Silence, fingerprint
from apps.core.roles import Role
from tests.notifications.servers import start_http_receiver

from .conftest import PASSWORD, Cli
from .test_live import api

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def receiver():
    server = start_http_receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def firing_alert(logged_in) -> Alert:
    rule = api(logged_in, "POST", "alert-rules/", {
        "team": logged_in.team.pk, "name": "CLI CPU high", "kind": "metric", "metric": "cpu", "operator": ">",
        "threshold": 80, "for_seconds": 0, "severity": "warning",
    })
    return Alert.objects.create(
        team=logged_in.team, rule_id=rule["id"], fingerprint=fingerprint(rule["id"], "container", 4242),
        status=Alert.Status.FIRING, target_kind="container", target_id=4242, target_name="cli-web-1",
        target_labels={"app": "web"}, summary="cpu 93% > 80%", value=93.0,
    )


def _viewer(logged_in: Cli, live_daphne: str, tmp_path) -> Cli:
    viewer = get_user_model().objects.create_user("clialertviewer", password=PASSWORD)
    Membership.objects.create(user=viewer, team=logged_in.team, role=Role.VIEWER)
    other = Cli(tmp_path / "viewer-config")
    other.config_home.mkdir()
    assert other("login", live_daphne, "-u", "clialertviewer", "--password-stdin", input=PASSWORD).code == 0
    return other


def test_alerts_ls_ack_and_silence(logged_in, admin, firing_alert):
    cli = logged_in
    resolved = Alert.objects.create(
        team=cli.team, rule=firing_alert.rule, fingerprint=firing_alert.fingerprint, status=Alert.Status.RESOLVED,
        target_kind="container", target_id=4242, target_name="cli-web-old", summary="was high",
    )

    listed = cli("alerts", "ls", "--json")
    assert listed.code == 0, listed.err
    rows = listed.json()
    assert [r["id"] for r in rows] == [firing_alert.pk]  # open alerts only by default
    assert rows[0]["rule_name"] == "CLI CPU high" and rows[0]["status"] == "firing"
    assert {r["id"] for r in cli("alerts", "ls", "--all", "--json").json()} == {firing_alert.pk, resolved.pk}
    assert [r["id"] for r in cli("alerts", "ls", "--status", "resolved", "--json").json()] == [resolved.pk]
    table = cli("alerts", "ls")
    assert table.code == 0 and "cli-web-1" in table.out and "cli-web-old" not in table.out

    acked = cli("alerts", "ack", str(firing_alert.pk), "--json")
    assert acked.code == 0, acked.err
    assert acked.json()["acknowledged_at"] and acked.json()["acknowledged_by"] == admin[0].pk
    firing_alert.refresh_from_db()
    assert firing_alert.acknowledged_at is not None
    assert cli("alerts", "ack", "999999").code == 3

    silenced = cli("alerts", "silence", "--rule", "CLI CPU high", "--label", "app=web", "tier", "--for", "2h",
                   "--comment", "deploying the new build", "--json")
    assert silenced.code == 0, silenced.err
    body = silenced.json()
    row = Silence.objects.get(pk=body["id"])
    assert row.rule_id == firing_alert.rule_id and row.label_selector == {"app": "web", "tier": ""}
    assert row.team_id == cli.team.pk and row.comment == "deploying the new build"
    assert abs((row.ends_at - row.starts_at).total_seconds() - 7200) < 1

    # Without --comment the CLI says where the silence came from; the human line names the matchers.
    human = cli("alerts", "silence", "--target", "cli-web-1", "--for", "30m", "--team", str(cli.team.pk))
    assert human.code == 0, human.err
    assert "target cli-web-1" in human.out
    assert Silence.objects.filter(target_name="cli-web-1", comment__contains="30m").exists()

    too_short = cli("alerts", "silence", "--rule", str(firing_alert.rule_id), "--for", "10s")
    assert too_short.code == 1 and "duration_seconds" in too_short.err
    assert cli("alerts", "silence", "--rule", "no such rule", "--for", "1h").code == 3


def test_viewer_may_list_but_not_ack_exit_4(logged_in, firing_alert, live_daphne, tmp_path):
    viewer = _viewer(logged_in, live_daphne, tmp_path)
    assert [r["id"] for r in viewer("alerts", "ls", "--json").json()] == [firing_alert.pk]
    refused = viewer("alerts", "ack", str(firing_alert.pk))
    assert refused.code == 4 and "Permission denied" in refused.err
    assert viewer("alerts", "silence", "--rule", str(firing_alert.rule_id), "--for", "1h").code == 4
    firing_alert.refresh_from_db()
    assert firing_alert.acknowledged_at is None


def test_notify_channels_ls_and_test_reaches_the_webhook(logged_in, receiver, live_daphne, tmp_path):
    cli = logged_in
    channel = api(cli, "POST", "notification-channels/", {
        "team": cli.team.pk, "name": "cli-hook", "kind": "webhook", "url": receiver.url("/cli-hook"),
    })
    api(cli, "POST", "notification-channels/", {
        "team": cli.team.pk, "name": "cli-dead", "kind": "webhook", "url": "http://127.0.0.1:1/nobody-listens",
    })

    listed = cli("notify", "channels", "ls", "--json")
    assert listed.code == 0, listed.err
    rows = {r["name"]: r for r in listed.json()}
    assert set(rows) == {"cli-hook", "cli-dead"} and rows["cli-hook"]["kind"] == "webhook"
    assert "url" not in rows["cli-hook"]  # the secret URL never leaves the server
    assert "cli-hook" in cli("notify", "channels", "ls").out

    sent = cli("notify", "test", "cli-hook", "--json")
    assert sent.code == 0, sent.err
    result = sent.json()
    assert result["ok"] is True and result["delivery"]["status"] == "delivered" and result["delivery"]["is_test"]
    posts = receiver.wait_for(1)
    assert len(posts) == 1 and posts[0].path == "/cli-hook"
    payload = posts[0].json()
    assert payload["test"] is True and payload["channel"] == {"id": channel["id"], "name": "cli-hook"}

    by_id = cli("notify", "test", str(channel["id"]))
    assert by_id.code == 0 and "delivered" in by_id.out
    assert len(receiver.wait_for(2)) == 2

    failed = cli("notify", "test", "cli-dead")
    assert failed.code == 1 and "failed" in failed.out
    assert cli("notify", "test", "no-such-channel").code == 3
    viewer = _viewer(cli, live_daphne, tmp_path)
    assert viewer("notify", "test", "cli-hook").code == 4
    assert len(receiver.requests) == 2
