"""`dockerforge analyze --agents` and `dockerforge fixes` as the real console script against
the live daphne server and the real engine: the agents' steps print (agent, tool, output) and
come in --json; a restart fix is listed, approved (the command follows its Operation until
the recreated container is verified) and rejected; exit codes 3 (unknown) and 4 (viewer)."""

from __future__ import annotations

import re

import docker
import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership
from apps.ai import fixes
from apps.ai.models import Analysis, FixProposal
from apps.core.roles import Role

from .conftest import PASSWORD, Cli
from .test_live_chat import port_clash_container

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def _viewer(cli: Cli, live_daphne: str, tmp_path) -> Cli:
    viewer = get_user_model().objects.create_user("clifixviewer", password=PASSWORD)
    Membership.objects.create(user=viewer, team=cli.team, role=Role.VIEWER)
    other = Cli(tmp_path / "viewer-config")
    other.config_home.mkdir()
    assert other("login", live_daphne, "-u", "clifixviewer", "--password-stdin", input=PASSWORD).code == 0
    return other


def test_analyze_agents_prints_steps_and_fixes_are_approved_and_rejected(logged_in, local_host, live_daphne, tmp_path, docker_socket):
    cli = logged_in
    name = port_clash_container(cli, local_host["id"])

    human = cli("analyze", name, "--agents")
    assert human.code == 0, human.err
    analysis = Analysis.objects.get(target_name=name, mode="agents")
    steps = list(analysis.steps.order_by("number"))
    assert steps and analysis.agent_status == "done"
    for step in steps:  # each step on its own line: number, agent, tool
        assert f"{step.number:>3}. {step.agent} → {step.tool}" in human.out, human.out
    step_lines = [line for line in human.out.splitlines() if re.match(r"^ +\d+\. \w+ → ", line)]
    assert len(step_lines) == len(steps)  # printed once each (live stream + the finished analysis)
    assert all(len(line) < 200 for line in step_lines) and '"Cmd"' in step_lines[0]  # a short output, on one line
    assert "configuration → inspect section=config" in human.out and "Explanation:" in human.out
    assert "Port already in use" in human.out.split("Explanation:")[1]  # the final answer

    as_json = cli("analyze", name, "--agents", "--json")
    assert as_json.code == 0, as_json.err
    body = as_json.json()
    assert body["mode"] == "agents" and [s["number"] for s in body["steps"]] == list(range(1, len(body["steps"]) + 1))
    assert {"agent", "tool", "input", "output_summary"} <= set(body["steps"][0])

    restart = fixes.propose(analysis, "restart", {}, "Restart it once the other listener is gone", "agent:configuration")
    memory = fixes.propose(analysis, "raise_memory", {"memory": "64m"}, "Give it room", "agent:performance")
    listed = cli("fixes", "ls", "--container", name, "--json")
    assert listed.code == 0, listed.err
    assert {r["id"] for r in listed.json()} == {restart.pk, memory.pk}
    assert {r["container_name"] for r in listed.json()} == {name}
    table = cli("fixes", "ls", "--container", name)
    assert table.code == 0 and "Restart it once the other" in table.out and "Raise memory limit" in table.out
    assert cli("fixes", "ls", "--status", "applied", "--json").json() == []

    viewer = _viewer(cli, live_daphne, tmp_path)
    denied = viewer("fixes", "approve", str(restart.pk))
    assert denied.code == 4 and denied.err.strip()
    assert viewer("fixes", "reject", str(restart.pk)).code == 4
    assert [r["id"] for r in viewer("fixes", "ls", "--json").json()] == [memory.pk, restart.pk]  # viewers read
    assert cli("fixes", "approve", "999999").code == 3
    assert cli("fixes", "reject", "999999").code == 3

    engine = docker.DockerClient(base_url=docker_socket, version="1.41", timeout=30)
    try:
        before = engine.containers.get(name).id
        applied = cli("fixes", "approve", str(restart.pk), "--health-seconds", "1")
        assert applied.code == 0, applied.err
        assert f"Fix {restart.pk} (Restart for {name}) applied and verified" in applied.out
        after = engine.containers.get(name)
        assert after.id != before and after.status == "running"  # recreated from its spec and started
    finally:
        engine.close()
    restart.refresh_from_db()
    assert restart.status == "applied" and restart.operation_id

    memory.refresh_from_db()
    assert memory.container.docker_id == after.id  # the other open proposal follows the recreated container
    rejected = cli("fixes", "reject", str(memory.pk), "--json")
    assert rejected.code == 0 and rejected.json()["status"] == "rejected"
    again = cli("fixes", "approve", str(memory.pk))
    assert again.code == 1 and "rejected" in again.err  # only a proposed fix can be approved
    assert FixProposal.objects.get(pk=memory.pk).status == "rejected"
