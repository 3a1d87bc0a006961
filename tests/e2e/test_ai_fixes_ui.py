"""An agent analysis and its fix in headless Chromium, on the real engine: an operator has the
analysis page of an OOM-killed container open while the analysis runs (as a worker would, in
another thread, through the shared Redis layer): each agent step appears as it is stored, then
the page shows the answer and the proposed "raise memory limit" fix with its rationale, all
without a reload. The operator approves; the fix runs through recreate-with-rollback and shows
as applied, and a second tab on the same page sees the status change live."""

import time

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Membership, Team
from apps.ai.models import Analysis, FixProposal
from apps.containers.models import Container
from apps.core.roles import Role
from apps.hosts.models import DockerHost
from tests.helpers import in_other_thread, unique

from .conftest import PASSWORD, login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.docker]
IMAGE = "dockerforge/busybox:test"
MIB = 1024 * 1024
# Under 16 MiB `tail` is OOM-killed (exit 137, State.OOMKilled); with more it sleeps on.
OOM_SCRIPT = "head -c 64m /dev/zero | tail > /dev/null || exit 137; exec sleep 3600"


@pytest.fixture
def oom_killed(e2e_db, docker_socket, test_labels):
    import docker

    team = Team.objects.create(name="Fix Team", slug="fix-team")
    operator = get_user_model().objects.create_user("fix_operator", password=PASSWORD)
    Membership.objects.create(user=operator, team=team, role=Role.OPERATOR)
    host = DockerHost.objects.create(team=team, name="local", url=docker_socket, status="up")
    engine = docker.DockerClient(base_url=docker_socket, version="1.41", timeout=30)
    name = unique("e2e-oom")
    ct = engine.containers.run(IMAGE, ["sh", "-c", OOM_SCRIPT], name=name, detach=True, labels=dict(test_labels),
                               mem_limit="16m", memswap_limit="16m")
    deadline = time.monotonic() + 30
    while ct.status != "exited" and time.monotonic() < deadline:
        time.sleep(0.1)
        ct.reload()
    assert ct.attrs["State"]["OOMKilled"] is True
    row = Container.objects.create(team=team, host=host, docker_id=ct.id, name=name, image=IMAGE, state=ct.status,
                                   exit_code=ct.attrs["State"]["ExitCode"], labels=ct.labels)
    yield operator, row, engine
    for leftover in engine.containers.list(all=True, filters={"name": name}):  # recreate leaves new ids and -df-old- names
        leftover.remove(force=True)
    engine.close()


def _run_analysis(analysis: Analysis, user) -> None:
    """What the worker does: the analysis Operation (Celery runs eagerly in this process)."""
    from apps.activity import operations
    from apps.ai.tasks import run_analysis

    op = operations.start(team=analysis.team, kind="ai.analysis", task=run_analysis, user=user, target_kind="container",
                          target_id=analysis.container_id, target_name=analysis.target_name, params={"analysis": analysis.pk})
    Analysis.objects.filter(pk=analysis.pk).update(operation=op)


def test_agent_steps_stream_and_the_fix_is_approved_and_applied(new_context, oom_killed, shared_layer, request):
    operator, row, engine = oom_killed
    analysis = Analysis.objects.create(team=row.team, target_kind="container", container=row, target_name=row.name,
                                       mode=Analysis.Mode.AGENTS, created_by=operator)
    page = new_context().new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, operator.username)
    page.goto(f"/ai/analyses/{analysis.pk}/")
    page.wait_for_selector("[data-analysis-socket][data-live='1']", state="attached")
    assert page.locator("[data-analysis-status]").inner_text() == "pending"
    assert page.locator("tr.agent-step").count() == 0 and "Working on it" in page.inner_text("#analysis-body")
    page.evaluate("window.__dfNoReload = true")
    screenshot(page, request, "1-pending")

    in_other_thread(lambda: _run_analysis(analysis, operator), timeout=90)

    # Every step the run stored, and then the finished analysis, arrive without a reload.
    steps = list(analysis.steps.order_by("number"))
    assert steps and steps[0].agent == "performance"
    page.wait_for_function(f"document.querySelectorAll('tr.agent-step').length === {len(steps)}")
    page.wait_for_selector("#fixes .fix")
    assert page.locator("[data-analysis-status]").inner_text() == "succeeded"
    assert [int(n) for n in page.locator("tr.agent-step").evaluate_all("rows => rows.map(r => r.dataset.step)")] == \
        [s.number for s in steps]
    assert page.evaluate("window.__dfNoReload === true"), "the page reloaded"
    fix = FixProposal.objects.get(analysis=analysis)
    assert fix.kind == "raise_memory" and fix.status == "proposed"
    card = page.locator(f"#fix-{fix.pk}")
    assert "Raise memory limit" in card.inner_text() and "proposed" in card.inner_text()
    assert fix.rationale and fix.rationale[:40] in card.inner_text()  # the rationale, as the detector wrote it
    assert "memory limit 256 MiB (swap limit raised to match)" in card.inner_text()
    screenshot(page, request, "2-proposed")

    watcher = new_context().new_page()  # a second tab on the same analysis
    login(watcher, operator.username)
    watcher.goto(f"/ai/analyses/{analysis.pk}/")
    watcher.wait_for_selector("[data-analysis-socket][data-live='1']", state="attached")
    watcher.evaluate("window.__dfNoReload = true")

    card.get_by_role("button", name="Approve and apply").click()
    # The server runs the Operation (recreate, then a 10 s health gate) before it redirects back.
    page.wait_for_selector(f"#fix-{fix.pk} .badge:text-is('applied')", timeout=60_000)
    fix.refresh_from_db()
    assert fix.status == "applied" and fix.approved_by == operator
    assert "approved by fix_operator" in page.locator(f"#fix-{fix.pk}").inner_text()
    assert page.locator(f"#fix-{fix.pk} form").count() == 0  # nothing left to decide
    live = engine.containers.get(row.name)
    assert live.status == "running" and live.attrs["HostConfig"]["Memory"] == 256 * MIB
    assert f"the container now runs as {live.id[:12]}" in page.locator(f"#fix-{fix.pk}").inner_text()
    assert "Fix approved and applied: Raise memory limit." in page.inner_text("body")
    screenshot(page, request, "3-applied")

    watcher.wait_for_selector(f"#fix-{fix.pk} .badge:text-is('applied')", timeout=30_000)
    assert watcher.evaluate("window.__dfNoReload === true"), "the second tab reloaded"
    screenshot(watcher, request, "4-second-tab")
    assert dialogs == []
