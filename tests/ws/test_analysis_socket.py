"""/ws/ai/analyses/<id>/ through the real ASGI application: a socket gets the steps stored so
far, then each new agent step as it is stored, in order, then the "changed" notice when the
analysis ends; another team's analysis is refused before accept; viewers may watch."""

import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.ai import agents
from apps.ai.models import Analysis
from apps.containers.models import Container
from apps.hosts.models import DockerHost
from dockerforge.asgi import application
from tests.helpers import unique

from .conftest import session_headers

pytestmark = pytest.mark.django_db(transaction=True)
IMAGE = "dockerforge/busybox:test"


def _analysis(team, name="app") -> Analysis:
    host = DockerHost.objects.create(team=team, name=unique("h"), url="tcp://127.0.0.1:1")
    row = Container.objects.create(team=team, host=host, docker_id=unique("c").ljust(64, "0")[:64], name=name)
    return Analysis.objects.create(team=team, target_kind="container", container=row, target_name=name, mode=Analysis.Mode.AGENTS)


def _record(analysis: Analysis, agent: str, tool: str, output: str) -> None:
    run = agents.Run(analysis, None, 10, 10_000)
    run.steps = analysis.steps.count()
    run.record(agent, tool, {"tail": 5}, output)


def test_snapshot_then_live_steps_in_order_escaped_and_scoped(in_memory_layer, two_teams):
    analysis = _analysis(two_teams["a"]["team"])
    _record(analysis, "logs", "logs", "first <b>step</b>")
    viewer = session_headers(Client(), two_teams["a"]["viewer"])
    outsider = session_headers(Client(), two_teams["b"]["admin"])
    path = f"/ws/ai/analyses/{analysis.pk}/"

    async def scenario():
        refused = WebsocketCommunicator(application, path, outsider)
        connected, code = await refused.connect(timeout=5)
        assert not connected and code == 4404
        assert await refused.receive_nothing(timeout=0.2)

        sock = WebsocketCommunicator(application, path, viewer)
        assert (await sock.connect(timeout=5))[0]
        ready = await sock.receive_json_from()
        assert ready == {"type": "ready", "analysis": analysis.pk, "status": "pending", "steps": 1}
        first = await sock.receive_json_from()
        assert first["type"] == "step" and first["number"] == 1 and first["step"]["output_summary"] == "first <b>step</b>"
        assert "first &lt;b&gt;step&lt;/b&gt;" in first["html"] and "<b>" not in first["html"]  # escaped by the template

        for i, tool in enumerate(("events", "inspect", "stats_history"), start=2):
            await database_sync_to_async(_record)(analysis, "performance", tool, f"output {i}")
        got = [await sock.receive_json_from() for _ in range(3)]
        assert [m["number"] for m in got] == [2, 3, 4]
        assert [m["type"] for m in got] == ["step"] * 3 and "<code>stats_history</code>" in got[-1]["html"]
        assert 'data-step="4"' in got[-1]["html"]

        await database_sync_to_async(Analysis.objects.filter(pk=analysis.pk).update)(status="succeeded")
        from apps.ai import live

        await database_sync_to_async(live.push_changed)(analysis.pk, "status")
        assert await sock.receive_json_from() == {"type": "changed", "what": "status"}
        await sock.disconnect()

    async_to_sync(scenario)()


def test_another_analysis_stream_gets_nothing(in_memory_layer, two_teams):
    mine, other = _analysis(two_teams["a"]["team"], "mine"), _analysis(two_teams["a"]["team"], "other")
    operator = session_headers(Client(), two_teams["a"]["operator"])

    async def scenario():
        sock = WebsocketCommunicator(application, f"/ws/ai/analyses/{mine.pk}/", operator)
        assert (await sock.connect(timeout=5))[0]
        assert (await sock.receive_json_from())["steps"] == 0
        await database_sync_to_async(_record)(other, "logs", "logs", "not yours")
        assert await sock.receive_nothing(timeout=0.3)  # one analysis's steps never reach another's socket
        await sock.disconnect()

    async_to_sync(scenario)()


@pytest.mark.docker
def test_a_real_agent_run_streams_each_step_then_its_end(in_memory_layer, two_teams, docker_socket, test_labels):
    """The offline coordinator on a real OOM-killed container: every step it stores reaches
    the socket while the analysis runs, then "changed" once it is over."""
    import docker

    team = two_teams["a"]["team"]
    engine = docker.DockerClient(base_url=docker_socket, version="1.41", timeout=30)
    ct = engine.containers.run(IMAGE, ["sh", "-c", "echo allocating; head -c 64m /dev/zero | tail; exit 137"], detach=True,
                               labels=dict(test_labels), name=unique("ws-agents"), mem_limit="16m", memswap_limit="16m")
    try:
        deadline = time.monotonic() + 30
        while ct.status != "exited" and time.monotonic() < deadline:
            time.sleep(0.1)
            ct.reload()
        host = DockerHost.objects.create(team=team, name="local", url=docker_socket, status="up")
        row = Container.objects.create(team=team, host=host, docker_id=ct.id, name=ct.name, image=IMAGE, state=ct.status,
                                       exit_code=ct.attrs["State"]["ExitCode"], labels=ct.labels)
        operator = two_teams["a"]["operator"]
        analysis = Analysis.objects.create(team=team, target_kind="container", container=row, target_name=row.name,
                                           mode=Analysis.Mode.AGENTS)
        headers = session_headers(Client(), two_teams["a"]["viewer"])

        def run_it():
            from apps.activity import operations
            from apps.ai.tasks import run_analysis

            op = operations.start(team=team, kind="ai.analysis", task=run_analysis, user=operator, target_kind="container",
                                  target_id=row.pk, target_name=row.name, params={"analysis": analysis.pk})  # eager: runs now
            Analysis.objects.filter(pk=analysis.pk).update(operation=op)

        async def scenario():
            sock = WebsocketCommunicator(application, f"/ws/ai/analyses/{analysis.pk}/", headers)
            assert (await sock.connect(timeout=5))[0]
            assert (await sock.receive_json_from())["steps"] == 0
            await database_sync_to_async(run_it, thread_sensitive=False)()
            got = []
            while not got or got[-1]["type"] != "changed":
                got.append(await sock.receive_json_from(timeout=10))
            await sock.disconnect()
            return got

        got = async_to_sync(scenario)()
        analysis.refresh_from_db()
        steps = list(analysis.steps.order_by("number"))
        assert analysis.status == "succeeded" and analysis.agent_status == "done" and steps
        assert [m["number"] for m in got[:-1]] == [s.number for s in steps]  # every step, in order, before the end
        assert steps[0].agent == "performance" and f"<code>{steps[0].tool}</code>" in got[0]["html"]
        assert got[-1] == {"type": "changed", "what": "status"}
    finally:
        ct.remove(force=True)
        engine.close()
