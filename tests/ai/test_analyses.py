"""Analyses end to end on the real engine: redaction with canary secrets, the cache, the API."""

import pytest

from apps.ai.models import AIProviderSettings, Analysis
from apps.ai.redaction import Redactor
from tests.conftest import api_client_for

from .conftest import mirror
from .fake_llm import Reply, anthropic_message

CANARY_ENV = "canary-env-7f3a9c1e"
CANARY_LOG = "canary-log-5b2d8e4f"
CANARY_EMAIL = "oncall-canary@example.test"


@pytest.fixture
def canary_container(replay, local_host):
    log = (f"starting with token={CANARY_LOG}\nconnecting as {CANARY_EMAIL} using {CANARY_ENV}\n"
           "FATAL:  password authentication failed for user \"app\"")
    ct = replay(log, 1, env={"API_TOKEN": CANARY_ENV, "MODE": "production"})
    replay.wait([ct])
    return mirror(local_host, ct)


@pytest.mark.docker
@pytest.mark.django_db
def test_canaries_never_leave_and_come_back_restored(canary_container, fake_llm, two_teams, django_capture_on_commit_callbacks):
    team = two_teams["a"]["team"]
    AIProviderSettings.objects.create(team=team, provider="claude", api_key="sk-ant-team-key", base_url=fake_llm.url)
    fake_llm.default = Reply(body=anthropic_message("The app's password is wrong [E1]; it logged [SECRET_1] and [EMAIL_1]. See [E99]."))
    client = api_client_for(two_teams["a"]["operator"])

    preview = client.post("/api/v1/analyses/preview/", {"container": canary_container.pk}, format="json")
    assert preview.status_code == 200 and preview.json()["provider"] == "claude"
    shown = preview.json()["messages"][0]["content"]
    assert "[SECRET_1]" in shown and CANARY_ENV not in shown and CANARY_LOG not in shown and CANARY_EMAIL not in shown

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/analyses/", {"container": canary_container.pk}, format="json")
    assert response.status_code == 202
    sent = str(fake_llm.requests[0]["json"])
    assert sent.count("[SECRET_") >= 2 and "[EMAIL_1]" in sent  # the context was sent, redacted
    for canary in (CANARY_ENV, CANARY_LOG, CANARY_EMAIL):
        assert canary not in sent
    assert shown == fake_llm.requests[0]["json"]["messages"][0]["content"]  # the preview is exactly what was sent

    analysis = Analysis.objects.get(pk=response.json()["analysis"])
    assert analysis.status == "succeeded" and analysis.provider == "claude"
    assert CANARY_ENV not in analysis.explanation and CANARY_ENV not in str(analysis.evidence)
    assert analysis.input_tokens == 120 and analysis.output_tokens == 30 and analysis.cost_usd > 0
    assert analysis.citations == ["E1", "E99"] and analysis.invalid_citations == ["E99"]  # flagged server-side
    shown = client.get(f"/api/v1/analyses/{analysis.pk}/").json()["explanation"]
    assert CANARY_ENV in shown and CANARY_EMAIL in shown  # restored for the user

    # The same input again: served from the cache, no second provider call.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/api/v1/analyses/", {"container": canary_container.pk}, format="json")
    second = Analysis.objects.get(pk=again.json()["analysis"])
    assert len(fake_llm.requests) == 1 and second.cached_from_id == analysis.pk and second.explanation == analysis.explanation


@pytest.mark.docker
@pytest.mark.django_db
def test_without_a_key_the_offline_provider_answers(canary_container, two_teams, django_capture_on_commit_callbacks, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-installation"
    AIProviderSettings.objects.create(team=two_teams["a"]["team"], provider="claude")  # no key, not opted in
    client = api_client_for(two_teams["a"]["operator"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/analyses/", {"container": canary_container.pk}, format="json")
    analysis = Analysis.objects.get(pk=response.json()["analysis"])
    assert analysis.provider == "offline" and analysis.findings[0]["category"] == "db_auth"
    assert "[E" in analysis.explanation and not analysis.invalid_citations


@pytest.mark.django_db
def test_roles_and_bad_input(two_teams):
    from apps.containers.models import Container
    from apps.hosts.models import DockerHost

    team_a, team_b = two_teams["a"]["team"], two_teams["b"]["team"]
    host_b = DockerHost.objects.create(team=team_b, name="b", url="tcp://127.0.0.1:1")
    theirs = Container.objects.create(team=team_b, host=host_b, docker_id="f" * 64, name="theirs")
    host_a = DockerHost.objects.create(team=team_a, name="a", url="tcp://127.0.0.1:1")
    mine = Container.objects.create(team=team_a, host=host_a, docker_id="e" * 64, name="mine")
    viewer, operator = api_client_for(two_teams["a"]["viewer"]), api_client_for(two_teams["a"]["operator"])
    assert viewer.post("/api/v1/analyses/", {"container": mine.pk}, format="json").status_code == 403
    assert operator.post("/api/v1/analyses/", {"container": theirs.pk}, format="json").status_code == 404
    bad = operator.post("/api/v1/analyses/", {"container": "x"}, format="json")
    assert bad.status_code == 400 and "container" in bad.json()["error"]["details"]
    both = operator.post("/api/v1/analyses/", {"container": mine.pk, "host": host_a.pk}, format="json")
    assert both.status_code == 400
    # Provider settings are MANAGE; the key is write-only and stored encrypted.
    assert operator.post("/api/v1/ai-settings/", {"provider": "claude"}, format="json").status_code == 403
    admin = api_client_for(two_teams["a"]["admin"])
    created = admin.post("/api/v1/ai-settings/", {"provider": "claude", "api_key": "sk-ant-secret-1"}, format="json")
    assert created.status_code == 201 and "api_key" not in created.json() and created.json()["has_key"] is True
    assert admin.post("/api/v1/ai-settings/", {"provider": "nope"}, format="json").status_code == 400
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM ai_aiprovidersettings")
        assert "sk-ant-secret-1" not in cursor.fetchone()[0]


def test_redactor_round_trip():
    r = Redactor(["hunter2-value"])
    text = r.redact("db postgres://u:p4ss@10.0.0.9:5432/x ip 10.1.2.3 mail a@b.example key=hunter2-value AKIAABCDEFGHIJKLMNOP")
    for secret in ("p4ss", "10.1.2.3", "a@b.example", "hunter2-value", "AKIAABCDEFGHIJKLMNOP"):
        assert secret not in text
    assert r.restore(text).count("hunter2-value") == 1 and "10.1.2.3" in r.restore(text)
    assert Redactor.from_json(r.to_json()).restore(text) == r.restore(text)


def test_redactor_numbers_placeholders_per_kind_and_after_a_reload():
    r = Redactor()
    assert r.redact("10.0.0.1 a@b.example 10.0.0.2 10.0.0.1") == "[IP_1] [EMAIL_1] [IP_2] [IP_1]"
    again = Redactor.from_json(r.to_json())
    assert again.redact("10.0.0.3 c@d.example 10.0.0.2") == "[IP_3] [EMAIL_2] [IP_2]"
