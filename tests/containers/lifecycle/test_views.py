"""Lifecycle pages: the actions panel, htmx actions, edit/duplicate on the recreate service,
bulk actions, admin actions; viewers get 403 everywhere, other teams 404."""

import pytest
from django.test import Client

from apps.activity.models import Operation
from apps.core.registries import panels

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_actions_panel_is_registered_and_shown_to_operators_only(rf, two_teams, make_container):
    row = make_container()
    panel = next(p for p in panels.for_page("container_detail") if p.name == "lifecycle_actions")
    request = rf.get("/")
    request.user = two_teams["a"]["operator"]
    html = panel.render(request, row)
    assert f"/containers/{row.pk}/action/stop/" in html and "hx-confirm" in html
    request.user = two_teams["a"]["viewer"]
    assert panel.render(request, row) is None


def test_htmx_action_returns_the_panel_with_the_operation_link(two_teams, make_container, engine_client):
    row = make_container()
    resp = client_for(two_teams["a"]["operator"]).post(f"/containers/{row.pk}/action/stop/", {"timeout": "1"}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    op = Operation.objects.get(kind="container.stop")
    assert f"/activity/operations/{op.pk}/" in resp.content.decode()
    assert op.status == "succeeded" and engine_client.containers.get(row.docker_id).status == "exited"
    # Bad options: the panel again, with the error, and no Operation.
    resp = client_for(two_teams["a"]["operator"]).post(f"/containers/{row.pk}/action/kill/", {"signal": "NOPE"}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 400 and "not a signal name" in resp.content.decode()
    # Without htmx: to the operation page.
    resp = client_for(two_teams["a"]["operator"]).post(f"/containers/{row.pk}/action/start/")
    assert resp.status_code == 302 and resp["Location"].startswith("/activity/operations/")


def test_viewer_gets_403_on_every_page_and_other_team_404(two_teams, make_container, local_host):
    row = make_container(start=False)
    viewer = client_for(two_teams["a"]["viewer"])
    for action in ("start", "stop", "restart", "pause", "unpause", "kill", "remove", "rename"):
        assert viewer.post(f"/containers/{row.pk}/action/{action}/", {"signal": "bogus"}).status_code == 403
    assert viewer.get(f"/containers/{row.pk}/edit/").status_code == 403
    assert viewer.post(f"/containers/{row.pk}/duplicate/", {"name": "x"}).status_code == 403
    assert viewer.get("/containers/new/").status_code == 403
    assert viewer.post("/containers/new/", {"host": local_host.pk, "image": "!!"}).status_code == 403
    assert viewer.post("/containers/bulk/", {"action": "stop", "ids": [row.pk]}).status_code == 403
    other = client_for(two_teams["b"]["admin"])
    assert other.post(f"/containers/{row.pk}/action/start/").status_code == 404
    assert other.get(f"/containers/{row.pk}/edit/").status_code == 404
    assert not Operation.objects.exists()


def test_edit_page_recreates_with_the_changed_fields(two_teams, make_container, engine_client, settings):
    settings.RECREATE_HEALTH_SECONDS = 0.5
    row = make_container(environment=["MODE=old"])
    client = client_for(two_teams["a"]["operator"])
    page = client.get(f"/containers/{row.pk}/edit/")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["env"] == "MODE=old" and form.initial["image"] == "dockerforge/busybox:test"
    data = {k: v for k, v in form.initial.items() if v is not None}
    resp = client.post(f"/containers/{row.pk}/edit/", {**data, "ports": "99999:1"})
    assert resp.status_code == 400 and "not a port number" in resp.content.decode()
    resp = client.post(f"/containers/{row.pk}/edit/", {**data, "env": "MODE=new", "health_seconds": "0.5"})
    assert resp.status_code == 302
    op = Operation.objects.get(kind="container.recreate")
    assert op.params["changes"] == {"env": ["MODE=new"]}  # only what changed
    assert op.status == "succeeded", op.error
    assert "MODE=new" in engine_client.containers.get(row.name).attrs["Config"]["Env"]


def test_duplicate_page(two_teams, make_container, engine_client):
    row = make_container()
    client = client_for(two_teams["a"]["operator"])
    page = client.get(f"/containers/{row.pk}/duplicate/")
    assert page.context["form"].initial["name"] == f"{row.name}-copy"
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    resp = client.post(f"/containers/{row.pk}/duplicate/", data)
    assert resp.status_code == 302
    assert engine_client.containers.get(f"{row.name}-copy").status == "running"


def test_bulk_action_starts_one_operation_per_container(two_teams, make_container, engine_client):
    rows = [make_container() for _ in range(3)]
    client = client_for(two_teams["a"]["operator"])
    resp = client.post("/containers/bulk/", {"action": "pause", "ids": [r.pk for r in rows]}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    ops = Operation.objects.filter(kind="container.pause")
    assert ops.count() == 3 and all(o.status == "succeeded" for o in ops)
    assert {engine_client.containers.get(r.docker_id).status for r in rows} == {"paused"}
    resp = client.post("/containers/bulk/", {"action": "explode", "ids": [rows[0].pk]}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 400 and "Choose an action" in resp.content.decode()
    resp = client.post("/containers/bulk/", {"action": "stop", "ids": ["x", "999999"]}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 400 and "Select at least one" in resp.content.decode()


def test_admin_actions_run_the_same_operations(two_teams, make_container, engine_client):
    operator = two_teams["a"]["operator"]
    operator.is_staff = True
    operator.save()
    viewer = two_teams["a"]["viewer"]
    viewer.is_staff = True
    viewer.save()
    row = make_container()
    url = "/admin/containers/container/"
    resp = client_for(viewer).post(url, {"action": "stop_containers", "_selected_action": [row.pk]}, follow=True)
    assert "does not allow" in resp.content.decode()
    assert not Operation.objects.exists()
    resp = client_for(operator).post(url, {"action": "stop_containers", "_selected_action": [row.pk]}, follow=True)
    assert resp.status_code == 200
    op = Operation.objects.get(kind="container.stop")
    assert op.created_by == operator and op.status == "succeeded"
    assert engine_client.containers.get(row.docker_id).status == "exited"
    # Containers come from engines: no "add" in the admin.
    assert client_for(operator).get(url + "add/").status_code == 403
