"""Agents on the real engine: the coordinator routes to specialised agents whose read-only
tools run against the real container; Claude and Gemini tool use through the real SDKs
against the local fake API server; the step cap and the token budget stop a run."""

import pytest
from django.test import Client

from apps.ai.agents import AGENTS, route
from apps.ai.agents import tools as agent_tools
from apps.ai.findings import Finding
from apps.ai.models import AIProviderSettings, Analysis
from apps.ai.redaction import Redactor
from tests.conftest import api_client_for

from .conftest import mirror
from .fake_llm import Reply, anthropic_tool_use, gemini_function_call, gemini_response

CANARY = "canary-agent-4e1d9b7a"


@pytest.fixture
def oom_container(replay, local_host):
    ct = replay(f"worker starting with API_KEY={CANARY}\nallocating buffers", 1, memory_mb=16, env={"API_KEY": CANARY})
    replay.wait([ct])
    return mirror(local_host, ct)


def _run(client, body, capture) -> Analysis:
    with capture(execute=True):
        response = client.post("/api/v1/analyses/", body, format="json")
    assert response.status_code == 202, response.content
    return Analysis.objects.get(pk=response.json()["analysis"])


@pytest.mark.docker
@pytest.mark.django_db
def test_a_provider_that_keeps_asking_for_tools_stops_at_the_step_cap(oom_container, fake_llm, two_teams, settings,
                                                                        django_capture_on_commit_callbacks):
    settings.AI_AGENT_MAX_STEPS = 4
    AIProviderSettings.objects.create(team=two_teams["a"]["team"], provider="claude", api_key="sk-ant-team", base_url=fake_llm.url)
    fake_llm.default = Reply(body=anthropic_tool_use("inspect", {"section": "config"}))  # never answers, always wants more
    client = api_client_for(two_teams["a"]["operator"])

    analysis = _run(client, {"container": oom_container.pk, "agents": True}, django_capture_on_commit_callbacks)

    assert analysis.status == "succeeded" and analysis.mode == "agents" and analysis.agent_status == "step_cap"
    assert len(fake_llm.requests) == 4  # one provider turn per step, none after the cap (no synthesis either)
    steps = list(analysis.steps.order_by("number"))
    assert [s.number for s in steps] == [1, 2, 3, 4] and {s.tool for s in steps} == {"inspect"}
    assert steps[0].agent == "performance" and steps[0].input == {"section": "config"}
    assert analysis.input_tokens == 4 * 200 and analysis.output_tokens == 4 * 40 and analysis.cost_usd > 0
    # The tool really ran against the container, redacted, and went back to the model as a tool result.
    assert "API_KEY=[SECRET_" in steps[0].output_summary and CANARY not in steps[0].output_summary
    second = fake_llm.requests[1]["json"]
    assert second["tools"][0]["name"] and {t["name"] for t in second["tools"]} >= {"stats_history", "inspect", "propose_fix"}
    result = second["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_1" and "[SECRET_" in result["content"]
    assert CANARY not in str(fake_llm.requests)
    assert "stopped at its step cap (4 steps)" in analysis.explanation

    api = client.get(f"/api/v1/analyses/{analysis.pk}/").json()
    assert api["agent_status"] == "step_cap" and [s["number"] for s in api["steps"]] == [1, 2, 3, 4]
    assert api["steps"][0]["tool"] == "inspect" and api["steps"][0]["agent"] == "performance"
    page = Client()
    page.force_login(two_teams["a"]["viewer"])
    html = page.get(f"/ai/analyses/{analysis.pk}/").content.decode()
    assert "stopped at its step cap" in html and html.count('class="agent-step"') == 4


@pytest.mark.docker
@pytest.mark.django_db
def test_the_token_budget_stops_a_run(oom_container, fake_llm, two_teams, settings, django_capture_on_commit_callbacks):
    settings.AI_AGENT_TOKEN_BUDGET = 500  # each turn costs 240 tokens: the third turn is never asked for
    AIProviderSettings.objects.create(team=two_teams["a"]["team"], provider="claude", api_key="k", base_url=fake_llm.url)
    fake_llm.default = Reply(body=anthropic_tool_use("events", {"limit": 5}))
    analysis = _run(api_client_for(two_teams["a"]["operator"]), {"container": oom_container.pk, "agents": True},
                    django_capture_on_commit_callbacks)
    assert analysis.agent_status == "token_budget" and analysis.steps.count() == 3 and len(fake_llm.requests) == 3
    assert "token budget" in analysis.explanation


@pytest.mark.docker
@pytest.mark.django_db
def test_gemini_tool_use_then_report_then_coordinator_answer(oom_container, fake_llm, two_teams, django_capture_on_commit_callbacks):
    AIProviderSettings.objects.create(team=two_teams["a"]["team"], provider="gemini", api_key="gem", base_url=fake_llm.url)
    fake_llm.replies = [Reply(body=gemini_function_call("inspect", {"section": "limits"})),
                        Reply(body=gemini_response("The 16 MiB limit is too small [E1].")),
                        Reply(body=gemini_response("Raise the memory limit [E1]; the agent confirmed it."))]
    analysis = _run(api_client_for(two_teams["a"]["operator"]), {"container": oom_container.pk, "agents": True},
                    django_capture_on_commit_callbacks)
    assert analysis.agent_status == "done" and analysis.provider == "gemini"
    steps = list(analysis.steps.values_list("agent", "tool"))
    assert steps == [("performance", "inspect"), ("performance", ""), ("coordinator", "")]
    assert '"Memory": 16777216' in analysis.steps.get(number=1).output_summary
    first, second = fake_llm.requests[0]["json"], fake_llm.requests[1]["json"]
    names = {d["name"] for d in first["tools"][0]["functionDeclarations"]}
    assert names == {"stats_history", "inspect", "events", "propose_fix"}
    response = second["contents"][-1]["parts"][0]["functionResponse"]
    assert response["name"] == "inspect" and "16777216" in response["response"]["result"]
    assert "The 16 MiB limit is too small" in str(fake_llm.requests[2]["json"])  # the report reached the coordinator
    assert analysis.explanation == "Raise the memory limit [E1]; the agent confirmed it." and analysis.citations == ["E1"]
    assert analysis.input_tokens == 3 * 100 + 50 and analysis.output_tokens == 20 * 2 + 25


@pytest.mark.docker
@pytest.mark.django_db
def test_offline_coordinator_routes_from_the_findings(oom_container, two_teams, django_capture_on_commit_callbacks):
    analysis = _run(api_client_for(two_teams["a"]["operator"]), {"container": oom_container.pk, "agents": True},
                    django_capture_on_commit_callbacks)
    assert analysis.provider == "offline" and analysis.agent_status == "done"
    steps = list(analysis.steps.values_list("agent", "tool", "input"))
    assert steps[0] == ("performance", "stats_history", {"metric": "mem"})
    assert ("performance", "inspect", {"section": "limits"}) in steps
    assert all(s.input_tokens == 0 for s in analysis.steps.all())
    assert "Killed for exceeding its memory limit" in analysis.explanation and "Agents consulted" in analysis.explanation
    assert analysis.fixes.get().kind == "raise_memory"  # the OOM detector's proposal


@pytest.mark.django_db
def test_agents_need_a_container_and_bad_input_is_a_field_error(two_teams):
    from apps.hosts.models import DockerHost

    host = DockerHost.objects.create(team=two_teams["a"]["team"], name="h", url="tcp://127.0.0.1:1")
    client = api_client_for(two_teams["a"]["operator"])
    response = client.post("/api/v1/analyses/", {"host": host.pk, "agents": True}, format="json")
    assert response.status_code == 400 and "agents" in response.json()["error"]["details"]
    response = client.post("/api/v1/analyses/", {"host": host.pk, "agents": "maybe"}, format="json")
    assert response.status_code == 400 and "agents" in response.json()["error"]["details"]


def test_routing_and_tool_argument_errors():
    def finding(category, severity="error"):
        return Finding("r", severity, category, "t", "e", [])

    assert route([finding("oom"), finding("db_auth"), finding("crash"), finding("tls")]) == ["performance", "security", "logs"]
    assert route([finding("limits", "info")]) == ["logs", "configuration"]
    assert set(AGENTS) == {"logs", "configuration", "performance", "security"}
    ctx = agent_tools.ToolContext(container=None, redactor=Redactor(["hunter2-value"]), inspect={"Config": {"Env": ["P=hunter2-value"]}})
    assert agent_tools.call(ctx, "inspect", {"section": "nope"}).startswith("error: section must be one of")
    assert agent_tools.call(ctx, "logs", {"tail": 10**6}).startswith("error: tail must be")
    assert agent_tools.call(ctx, "rm", {}) == "error: no tool named 'rm'"
    out = agent_tools.call(ctx, "inspect", {"section": "config"})
    assert "hunter2-value" not in out and "P=[SECRET_1]" in out
