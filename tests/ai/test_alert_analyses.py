"""Alert analyses: POST /api/v1/analyses/ {alert} analyses the alert's container with the
alert and its metric window as context (a finding with evidence), on the real engine."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.ai.models import Analysis
from apps.alerts.models import Alert, AlertRule, fingerprint
from apps.monitoring.models import Sample
from tests.conftest import api_client_for

from .conftest import mirror

MIB = 1024 * 1024


def _alert(row, *, status="firing") -> Alert:
    rule = AlertRule.objects.create(team=row.team, name="Memory high", kind="metric", metric="mem", operator=">", threshold=10 * MIB)
    return Alert.objects.create(team=row.team, rule=rule, fingerprint=fingerprint(rule.pk, "container", row.pk), status=status,
                                target_kind="container", target_id=row.pk, target_name=row.name, host=row.host,
                                value=15.5 * MIB, started_at=timezone.now() - timedelta(minutes=5), summary="Memory above 10 MiB")


@pytest.mark.docker
@pytest.mark.django_db
def test_an_alert_is_analysed_with_its_metric_window(replay, local_host, two_teams, django_capture_on_commit_callbacks):
    ct = replay("allocating", 1, memory_mb=16)
    replay.wait([ct])
    row = mirror(local_host, ct)
    now = timezone.now()
    for minutes, mem in ((30, 1 * MIB), (3, 12 * MIB), (2, 15.9 * MIB)):  # the first is outside the window
        Sample.objects.create(host=local_host, container=row, ts=now - timedelta(minutes=minutes), mem=mem)
    alert = _alert(row)
    client = api_client_for(two_teams["a"]["operator"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/analyses/", {"alert": alert.pk, "agents": True}, format="json")
    assert response.status_code == 202, response.content
    analysis = Analysis.objects.get(pk=response.json()["analysis"])
    assert analysis.alert_id == alert.pk and analysis.container_id == row.pk and analysis.status == "succeeded"
    found = next(f for f in analysis.findings if f["category"] == "alert")
    texts = [e["text"] for e in found["evidence"]]
    assert "Alert 'Memory high' (mem > 10485760.0) firing" in texts[0]
    window = next(t for t in texts if t.startswith("mem from"))
    assert f"max {15.9 * MIB:.6g}" in window and f"min {12 * MIB:.6g}" in window  # the sample 30 minutes ago is outside
    assert found["evidence"][0]["id"] and f"[{found['evidence'][0]['id']}]" not in analysis.invalid_citations
    # The performance agent's stats history reads the alert's window by default.
    mem_step = analysis.steps.get(tool="stats_history", input={"metric": "mem"})
    assert ": 2 points" in mem_step.output_summary
    assert client.get(f"/api/v1/analyses/?alert={alert.pk}").json()["results"][0]["id"] == analysis.pk


@pytest.mark.django_db
def test_alert_input_errors(two_teams):
    from apps.containers.models import Container
    from apps.hosts.models import DockerHost

    team_b = two_teams["b"]["team"]
    host_b = DockerHost.objects.create(team=team_b, name="b", url="tcp://127.0.0.1:1")
    theirs = _alert(Container.objects.create(team=team_b, host=host_b, docker_id="f" * 64, name="theirs"))
    team_a = two_teams["a"]["team"]
    host_a = DockerHost.objects.create(team=team_a, name="a", url="tcp://127.0.0.1:1")
    gone = Container.objects.create(team=team_a, host=host_a, docker_id="e" * 64, name="gone", removed_at=timezone.now())
    mine = _alert(gone)
    operator, viewer = api_client_for(two_teams["a"]["operator"]), api_client_for(two_teams["a"]["viewer"])
    assert operator.post("/api/v1/analyses/", {"alert": theirs.pk}, format="json").status_code == 404
    assert viewer.post("/api/v1/analyses/", {"alert": mine.pk}, format="json").status_code == 403
    both = operator.post("/api/v1/analyses/", {"alert": mine.pk, "container": gone.pk}, format="json")
    assert both.status_code == 400
    response = operator.post("/api/v1/analyses/", {"alert": mine.pk}, format="json")
    assert response.status_code == 400 and "alert" in response.json()["error"]["details"]
    assert not Analysis.objects.exists()
