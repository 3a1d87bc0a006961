"""Fix proposals on the real engine: an OOM-killed container gets a "raise memory limit"
proposal from the detector; an operator approves it; it runs through recreate-with-rollback
and is verified. A fix that leaves the container unhealthy is rolled back automatically."""

import time

import pytest
from django.core.exceptions import ValidationError

from apps.activity.models import AuditEvent, Event, Operation
from apps.ai import fixes
from apps.ai.models import Analysis, FixProposal
from apps.containers.models import Container, Image
from tests.conftest import api_client_for
from tests.helpers import unique

from .conftest import IMAGE, mirror

MIB = 1024 * 1024
# Under 16 MiB `tail` (which holds its whole input "line") is OOM-killed and the container
# exits 137 with State.OOMKilled; with more memory it finishes and the container keeps running.
OOM_SCRIPT = "head -c 64m /dev/zero | tail > /dev/null || exit 137; exec sleep 3600"


@pytest.fixture
def named(engine):
    """Names of test containers; every container whose name contains one is removed after
    (recreate leaves new ids and `-df-old-` names)."""
    names = []
    yield names
    for name in names:
        for ct in engine.containers.list(all=True, filters={"name": name}):
            ct.remove(force=True)


def _wait(ct, predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ct.reload()
        if predicate(ct):
            return
        time.sleep(0.1)
    raise AssertionError(f"{ct.name}: {ct.attrs['State']}")


def _live(engine, name):
    return engine.containers.get(name)


@pytest.mark.docker
@pytest.mark.django_db
def test_oom_killed_container_gets_a_raise_memory_fix_that_is_approved_applied_and_verified(
        engine, named, local_host, two_teams, test_labels, settings, django_capture_on_commit_callbacks):
    name = unique("ai-oom")
    named.append(name)
    ct = engine.containers.run(IMAGE, ["sh", "-c", OOM_SCRIPT], name=name, detach=True, labels=dict(test_labels),
                               mem_limit="16m", memswap_limit="16m")
    _wait(ct, lambda c: c.status == "exited")
    # dockerd records the cgroup's OOM event on its own; on a loaded machine it can land just after the exit
    _wait(ct, lambda c: c.attrs["State"]["OOMKilled"] is True, timeout=10)
    row = mirror(local_host, ct)
    operator, viewer = api_client_for(two_teams["a"]["operator"]), api_client_for(two_teams["a"]["viewer"])

    with django_capture_on_commit_callbacks(execute=True):
        analysed = operator.post("/api/v1/analyses/", {"container": row.pk}, format="json")
    analysis = Analysis.objects.get(pk=analysed.json()["analysis"])
    fix = FixProposal.objects.get(analysis=analysis)
    assert fix.kind == "raise_memory" and fix.status == "proposed" and fix.params == {"memory": 256 * MIB}
    assert fix.source == "inspect.oom_killed" and fix.container_id == row.pk
    listed = operator.get(f"/api/v1/fixes/?container={row.pk}").json()["results"]
    assert [f["id"] for f in listed] == [fix.pk]

    assert viewer.post(f"/api/v1/fixes/{fix.pk}/approve/", {}, format="json").status_code == 403
    other = api_client_for(two_teams["b"]["operator"])
    assert other.post(f"/api/v1/fixes/{fix.pk}/approve/", {}, format="json").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        approved = operator.post(f"/api/v1/fixes/{fix.pk}/approve/", {"health_seconds": 1}, format="json")
    assert approved.status_code == 202, approved.content

    fix.refresh_from_db()
    op = Operation.objects.get(pk=approved.json()["operation"])
    assert op.status == "succeeded", op.error
    assert fix.status == "applied" and fix.approved_by == two_teams["a"]["operator"] and fix.operation_id == op.pk
    live = _live(engine, name)
    assert live.id != ct.id and live.status == "running"
    host_config = live.attrs["HostConfig"]
    assert host_config["Memory"] == 256 * MIB and host_config["MemorySwap"] == 256 * MIB  # swap raised to match (none before, none now)
    assert fix.container.docker_id == live.id  # the proposal follows the new container
    assert Event.objects.filter(kind="fix.applied", team=row.team, target_id=str(fix.container_id)).exists()
    assert AuditEvent.objects.filter(name="ai.fix.approve").exists() and AuditEvent.objects.filter(name="ai.fix.applied").exists()
    # Approving twice is a clear error, not a second run.
    again = operator.post(f"/api/v1/fixes/{fix.pk}/approve/", {}, format="json")
    assert again.status_code == 400 and "status" in again.json()["error"]["details"]


@pytest.mark.docker
@pytest.mark.django_db
def test_a_fix_that_leaves_the_container_unhealthy_is_rolled_back(
        engine, named, local_host, two_teams, test_labels, django_capture_on_commit_callbacks):
    name = unique("ai-health")
    named.append(name)
    healthcheck = {"test": ["CMD-SHELL", 'test "$MODE" != broken'], "interval": 300_000_000, "timeout": 1_000_000_000, "retries": 1}
    ct = engine.containers.run(IMAGE, ["sleep", "3600"], name=name, detach=True, labels=dict(test_labels),
                               environment={"MODE": "ok"}, healthcheck=healthcheck)
    _wait(ct, lambda c: c.attrs["State"].get("Health", {}).get("Status") == "healthy")
    row = mirror(local_host, ct)
    analysis = Analysis.objects.create(team=row.team, target_kind="container", container=row, target_name=row.name)
    fix = fixes.propose(analysis, "recreate", {"env": {"MODE": "broken"}}, "Try broken mode", "agent:configuration")
    client = api_client_for(two_teams["a"]["operator"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/fixes/{fix.pk}/approve/", {"health_seconds": 5}, format="json")
    assert response.status_code == 202
    fix.refresh_from_db()
    op = Operation.objects.get(pk=response.json()["operation"])
    assert fix.status == "rolled_back" and op.status == "failed" and "unhealthy" in fix.result["error"]
    live = _live(engine, name)
    assert live.id == ct.id and live.status == "running"  # the old container, back under its name
    assert "MODE=ok" in live.attrs["Config"]["Env"]
    assert len(engine.containers.list(all=True, filters={"name": name})) == 1  # the new one is gone
    event = Event.objects.get(kind="fix.rolled_back", team=row.team)
    assert event.severity == "error" and event.payload["data"]["fix"] == fix.pk
    assert AuditEvent.objects.filter(name="ai.fix.rolled_back").exists()


@pytest.mark.django_db
def test_reject_and_bad_proposals(two_teams):
    from apps.hosts.models import DockerHost

    team = two_teams["a"]["team"]
    host = DockerHost.objects.create(team=team, name="h", url="tcp://127.0.0.1:1")
    row = Container.objects.create(team=team, host=host, docker_id="a" * 64, name="app")
    analysis = Analysis.objects.create(team=team, target_kind="container", container=row, target_name="app")
    with pytest.raises(ValidationError) as err:
        fixes.propose(analysis, "raise_memory", {"memory": "lots"}, "", "x")
    assert "memory" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        fixes.propose(analysis, "recreate", {"volumes": ["/:/host"]}, "", "x")
    assert "params" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        fixes.propose(analysis, "format_disk", {}, "", "x")
    assert "kind" in err.value.message_dict
    fix = fixes.propose(analysis, "restart", {}, "Restart it", "x")
    assert fixes.propose(analysis, "restart", {}, "Again", "x") is None  # one open proposal per kind
    viewer, operator = api_client_for(two_teams["a"]["viewer"]), api_client_for(two_teams["a"]["operator"])
    assert viewer.post(f"/api/v1/fixes/{fix.pk}/reject/").status_code == 403
    assert operator.post(f"/api/v1/fixes/{fix.pk}/reject/").json()["status"] == "rejected"
    assert operator.post(f"/api/v1/fixes/{fix.pk}/approve/", {}, format="json").status_code == 400


def test_swap_is_raised_to_match():
    assert fixes.swap_to_match({"HostConfig": {"Memory": 16 * MIB, "MemorySwap": 16 * MIB}}, 256 * MIB) == 256 * MIB
    assert fixes.swap_to_match({"HostConfig": {"Memory": 16 * MIB, "MemorySwap": 32 * MIB}}, 64 * MIB) == 128 * MIB
    assert fixes.swap_to_match({"HostConfig": {"Memory": 16 * MIB, "MemorySwap": -1}}, 64 * MIB) == -1
    assert fixes.swap_to_match({"HostConfig": {}}, 64 * MIB) == 64 * MIB


@pytest.mark.django_db
def test_rollback_image_finds_the_previous_image_the_container_ran(two_teams):
    from django.utils import timezone

    from apps.hosts.models import DockerHost

    team = two_teams["a"]["team"]
    host = DockerHost.objects.create(team=team, name="h", url="tcp://127.0.0.1:1")
    Image.objects.create(team=team, host=host, docker_id="sha256:" + "1" * 64)
    now = timezone.now()
    Container.objects.create(team=team, host=host, docker_id="b" * 64, name="app", image_id="sha256:" + "1" * 64, removed_at=now)
    Container.objects.create(team=team, host=host, docker_id="c" * 64, name="app", image_id="sha256:" + "9" * 64, removed_at=now)  # image gone
    current = Container.objects.create(team=team, host=host, docker_id="d" * 64, name="app", image_id="sha256:" + "2" * 64)
    assert fixes.previous_image(current) == "sha256:" + "1" * 64
    lonely = Container.objects.create(team=team, host=host, docker_id="e" * 64, name="other", image_id="sha256:" + "2" * 64)
    with pytest.raises(ValidationError):
        fixes.previous_image(lonely)


@pytest.mark.django_db
def test_the_analysis_page_lists_fixes_and_operators_decide(two_teams):
    from django.test import Client

    from apps.hosts.models import DockerHost

    team = two_teams["a"]["team"]
    host = DockerHost.objects.create(team=team, name="h", url="tcp://127.0.0.1:1")
    row = Container.objects.create(team=team, host=host, docker_id="a" * 64, name="app")
    analysis = Analysis.objects.create(team=team, target_kind="container", container=row, target_name="app")
    fix = fixes.propose(analysis, "raise_memory", {"memory": "512m"}, "It was OOM-killed <b>twice</b>", "inspect.oom_killed")
    viewer, operator = Client(), Client()
    viewer.force_login(two_teams["a"]["viewer"])
    operator.force_login(two_teams["a"]["operator"])
    page = viewer.get(f"/ai/analyses/{analysis.pk}/").content.decode()
    assert "Raise memory limit" in page and "&lt;b&gt;twice&lt;/b&gt;" in page and "Approve and apply" not in page
    assert "Approve and apply" in operator.get(f"/ai/analyses/{analysis.pk}/").content.decode()
    assert viewer.post(f"/ai/fixes/{fix.pk}/reject/").status_code == 403
    outsider = Client()
    outsider.force_login(two_teams["b"]["operator"])
    assert outsider.post(f"/ai/fixes/{fix.pk}/reject/").status_code == 404
    assert operator.post(f"/ai/fixes/{fix.pk}/reject/").status_code == 302
    fix.refresh_from_db()
    assert fix.status == "rejected" and AuditEvent.objects.filter(name="ai.fix.reject").exists()


def test_memory_swap_change_is_validated_and_applied():
    from apps.containers import create_spec

    cleaned = create_spec.clean_changes({"memory": "64m", "memory_swap": "128m"}, may_bind=False)
    plan = create_spec.apply_changes(create_spec.CreatePlan("x", {"Image": "i", "HostConfig": {"Memory": 1, "MemorySwap": 2}}), cleaned)
    assert plan.body["HostConfig"]["Memory"] == 64 * MIB and plan.body["HostConfig"]["MemorySwap"] == 128 * MIB
    assert create_spec.clean_changes({"memory_swap": "-1"}, may_bind=False) == {"memory_swap": -1}
    with pytest.raises(ValidationError) as err:
        create_spec.clean_changes({"memory": "64m", "memory_swap": "32m"}, may_bind=False)
    assert "memory_swap" in err.value.message_dict
