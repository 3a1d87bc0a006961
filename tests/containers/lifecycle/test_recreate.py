"""Recreate from spec with rollback, against the real engine: a config that makes the
container exit at once ends with the old container running again, unchanged; a good edit
keeps the new one and removes the old; image defaults are not frozen into the copy."""

import pytest

from apps.activity.models import AuditEvent, Operation
from apps.containers import create_spec
from apps.containers import recreate as recreate_mod
from apps.containers.models import Container
from tests.conftest import api_client_for

from .conftest import LOOP

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _short_watch(settings):
    settings.RECREATE_HEALTH_SECONDS = 1.5
    settings.RECREATE_HEALTH_GRACE_SECONDS = 10


def snapshot(client, ref) -> dict:
    c = client.containers.get(ref)
    return {"id": c.id, "name": c.name, "status": c.status, "config": c.attrs["Config"], "host_config": c.attrs["HostConfig"]}


def post_recreate(user, row, changes, **extra):
    resp = api_client_for(user).post(f"/api/v1/containers/{row.pk}/recreate/", {"changes": changes, **extra}, format="json")
    assert resp.status_code == 202, resp.content
    return Operation.objects.get(pk=resp.json()["operation"])


def test_a_config_that_exits_at_once_rolls_back_to_the_old_container_unchanged(two_teams, make_container, engine_client):
    row = make_container(environment=["MODE=old"])
    before = snapshot(engine_client, row.docker_id)
    op = post_recreate(two_teams["a"]["operator"], row, {"command": "sh -c 'echo broken config >&2; exit 3'"})
    op.refresh_from_db()
    assert op.status == "failed"
    assert "did not stay running (exit code 3)" in op.error and "rolled back" in op.error
    assert "broken config" in op.log or "broken config" in op.error
    after = snapshot(engine_client, before["name"])
    assert after == {**before, "status": "running"}
    assert before["status"] == "running"
    # Nothing else is left behind: no new container, no "-df-old-" one.
    names = [c.name for c in engine_client.containers.list(all=True, filters={"name": before["name"]})]
    assert names == [before["name"]]
    row.refresh_from_db()
    assert row.removed_at is None and row.state == "running" and row.docker_id == before["id"]
    assert AuditEvent.objects.filter(name="container.recreate", after__ok=False).exists()


def test_a_good_edit_keeps_the_new_container_and_removes_the_old(two_teams, make_container, engine_client):
    row = make_container(environment=["MODE=old"], labels={"tier": "web"})
    before = snapshot(engine_client, row.docker_id)
    op = post_recreate(two_teams["a"]["operator"], row, {"env": "MODE=new\nEXTRA=1", "memory": "64m"}, health_seconds=1)
    op.refresh_from_db()
    assert op.status == "succeeded", op.error
    after = snapshot(engine_client, before["name"])
    assert after["id"] != before["id"] and after["status"] == "running"
    assert "MODE=new" in after["config"]["Env"] and "MODE=old" not in after["config"]["Env"]
    assert after["host_config"]["Memory"] == 64 * 1024**2
    assert after["config"]["Labels"]["tier"] == "web" and after["config"]["Cmd"] == before["config"]["Cmd"]
    assert not engine_client.containers.list(all=True, filters={"id": before["id"]})
    row.refresh_from_db()
    assert row.removed_at is not None
    new_row = Container.objects.get(docker_id=after["id"])
    assert new_row.name == before["name"] and new_row.state == "running" and op.result["container"] == new_row.pk


def test_unhealthy_health_check_rolls_back(two_teams, make_container, engine_client):
    row = make_container()
    before = snapshot(engine_client, row.docker_id)
    result = recreate_mod.recreate(
        row.host, row.docker_id,
        create_spec.clean_changes({"healthcheck": {"test": "exit 1", "interval": 0.2, "timeout": 1, "retries": 1}}, may_bind=False),
        health_seconds=3,
    )
    assert not result.ok and result.rolled_back
    assert "unhealthy" in result.error
    assert snapshot(engine_client, before["name"]) == before


def test_healthy_health_check_is_waited_for(two_teams, make_container, engine_client):
    row = make_container()
    changes = create_spec.clean_changes({"healthcheck": {"test": "true", "interval": 0.2, "timeout": 1, "retries": 1}}, may_bind=False)
    result = recreate_mod.recreate(row.host, row.docker_id, changes, health_seconds=0.5)
    assert result.ok, result.error
    assert engine_client.containers.get(result.container_id).attrs["State"]["Health"]["Status"] == "healthy"


def test_a_stopped_container_is_recreated_stopped(two_teams, make_container, engine_client):
    row = make_container(start=False)
    result = recreate_mod.recreate(row.host, row.docker_id, create_spec.clean_changes({"env": "A=1"}, may_bind=False))
    assert result.ok
    new = engine_client.containers.get(result.container_id)
    assert new.status == "created" and "A=1" in new.attrs["Config"]["Env"]


def test_image_defaults_are_not_copied(two_teams, make_container, engine_client):
    """PATH (from the image) stays the image's; only what the container set is carried over."""
    from apps.hosts.services import client_for

    row = make_container(environment=["OWN=1"])
    client = client_for(row.host)
    try:
        plan = recreate_mod.plan_for_container(client, row.docker_id)
    finally:
        client.close()
    assert any(e.startswith("PATH=") for e in engine_client.containers.get(row.docker_id).attrs["Config"]["Env"])
    assert plan.body["Env"] == ["OWN=1"]  # ...but the image's PATH is not copied
    assert plan.body["Cmd"] == LOOP and "WorkingDir" not in plan.body


def test_duplicate_creates_a_copy_and_keeps_the_original(two_teams, make_container, engine_client):
    row = make_container(environment=["OWN=1"])
    copy_name = row.name + "-copy"
    resp = api_client_for(two_teams["a"]["operator"]).post(
        f"/api/v1/containers/{row.pk}/duplicate/", {"changes": {"name": copy_name, "env": "OWN=2"}}, format="json"
    )
    op = Operation.objects.get(pk=resp.json()["operation"])
    assert op.status == "succeeded", op.error
    copy = engine_client.containers.get(copy_name)
    assert copy.status == "running" and "OWN=2" in copy.attrs["Config"]["Env"]
    assert engine_client.containers.get(row.docker_id).status == "running"
