"""API and roles: checks/updates OPERATE, policies/windows/overrides MANAGE, 404 across teams,
field errors for bad input, the dry-run, version/ and the pages."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.containers.models import Container
from apps.hosts.models import DockerHost
from apps.updates.models import UpdateCheck, UpdatePolicy, UpdateRun, UpdateWindow
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(two_teams):
    for key in ("a", "b"):
        team = two_teams[key]["team"]
        host = DockerHost.objects.create(team=team, name=f"h-{key}", url="tcp://127.0.0.1:1")
        c = Container.objects.create(team=team, host=host, docker_id=f"{key}" * 64, name=f"web-{key}", image="127.0.0.1:1/demo/app:1.0.0",
                                     state="running")
        UpdateCheck.objects.create(team=team, container=c, host=host, image_ref=c.image, strategy="patch", status="available",
                                   newer_tag="1.0.1", target_ref="127.0.0.1:1/demo/app:1.0.1", checked_at=timezone.now())
        two_teams[key]["container"] = c
    return two_teams


def test_update_roles_and_scoping(world):
    a, b = world["a"], world["b"]
    url = reverse("api:update-list")
    assert api_client_for(a["viewer"]).post(url, {"container": a["container"].pk}, format="json").status_code == 403
    assert api_client_for(a["operator"]).post(url, {"container": b["container"].pk}, format="json").status_code == 404
    resp = api_client_for(a["operator"]).post(url, {"container": a["container"].pk, "override": True}, format="json")
    assert resp.status_code == 403 and "admin" in resp.json()["error"]["message"]
    resp = api_client_for(a["operator"]).post(url, {"container": a["container"].pk, "target": "NOT A REF!"}, format="json")
    assert resp.status_code == 400 and "target" in resp.json()["error"]["details"]
    resp = api_client_for(a["operator"]).post(url, {"container": "x"}, format="json")
    assert resp.status_code == 400


def test_update_request_queues_an_operation_and_a_run(world):
    from apps.updates import runs

    a = world["a"]
    op = runs.request_update(a["operator"], a["container"])  # the task runs after commit: not in this test
    run = UpdateRun.objects.get(operation=op)
    assert (run.from_ref, run.to_ref, run.status) == (a["container"].image, "127.0.0.1:1/demo/app:1.0.1", "pending")
    listed = api_client_for(a["viewer"]).get(reverse("api:update-list")).json()["results"]
    assert [r["id"] for r in listed] == [run.pk]
    assert api_client_for(world["b"]["viewer"]).get(reverse("api:update-detail", args=[run.pk])).status_code == 404
    resp = api_client_for(a["operator"]).post(reverse("api:update-rollback", args=[run.pk]))
    assert resp.status_code == 400 and "succeeded" in str(resp.json())


def test_windows_limit_operators_not_admins(world):
    from django.core.exceptions import PermissionDenied

    from apps.updates import runs

    a = world["a"]
    now = timezone.now()
    UpdateWindow.objects.create(team=a["team"], name="later", start=(now + dt.timedelta(hours=3)).time(), duration_minutes=30)
    with pytest.raises(PermissionDenied):
        runs.request_update(a["operator"], a["container"])
    assert runs.request_update(a["admin"], a["container"]).kind == "update.run"


def test_policies_and_windows_need_manage_and_validate(world):
    a, b = world["a"], world["b"]
    url = reverse("api:update-policy-list")
    body = {"container": a["container"].pk, "strategy": "minor", "include_regex": "^1\\."}
    assert api_client_for(a["operator"]).post(url, body, format="json").status_code == 403
    assert api_client_for(a["admin"]).post(url, body, format="json").status_code == 201
    assert api_client_for(a["admin"]).post(url, body, format="json").status_code == 400  # one per container
    resp = api_client_for(a["admin"]).post(url, {"container": b["container"].pk, "strategy": "minor"}, format="json")
    assert resp.status_code == 400 and "container" in resp.json()["error"]["details"]
    resp = api_client_for(a["admin"]).post(url, {"strategy": "sideways", "exclude_regex": "("}, format="json")
    assert resp.status_code == 400 and {"strategy", "exclude_regex"} <= set(resp.json()["error"]["details"])

    url = reverse("api:update-window-list")
    resp = api_client_for(a["admin"]).post(url, {"name": "n", "weekdays": [9], "start": "03:00", "duration_minutes": 0}, format="json")
    assert resp.status_code == 400 and {"weekdays", "duration_minutes"} <= set(resp.json()["error"]["details"])
    resp = api_client_for(a["admin"]).post(url, {"name": "n", "weekdays": [6, 5, 5], "start": "03:00", "duration_minutes": 60}, format="json")
    assert resp.status_code == 201 and resp.json()["weekdays"] == [5, 6]
    resp = api_client_for(a["admin"]).post(url, {"name": "tz", "start": "03:00", "duration_minutes": 60, "time_zone": "Mars/Olympus"}, format="json")
    assert resp.status_code == 400 and "time_zone" in resp.json()["error"]["details"]
    resp = api_client_for(a["admin"]).post(url, {"name": "tz", "start": "03:00", "duration_minutes": 60, "time_zone": "Asia/Tokyo"}, format="json")
    assert resp.status_code == 201 and resp.json()["time_zone"] == "Asia/Tokyo"
    assert api_client_for(a["operator"]).post(url, {"name": "m", "start": "03:00", "duration_minutes": 5}, format="json").status_code == 403


def test_dry_run_lists_what_would_change(world):
    a = world["a"]
    c = a["container"]
    url = reverse("api:update-dry-run")
    items = api_client_for(a["viewer"]).get(url, {"team": a["team"].pk}).json()["results"][0]["items"]
    assert items[0]["would_update"] is False and items[0]["reason"] == "automatic updates are off for this container"
    UpdatePolicy.objects.create(team=a["team"], container=c, strategy="patch", auto_update=True)
    start = (timezone.now() - dt.timedelta(minutes=5)).time()
    UpdateWindow.objects.create(team=a["team"], name="now", start=start, duration_minutes=60)
    result = api_client_for(a["viewer"]).get(url, {"team": a["team"].pk}).json()["results"][0]
    assert result["in_window"] is True
    assert result["items"] == [{"container": c.pk, "name": c.name, "host": "h-a", "from": c.image, "to": "127.0.0.1:1/demo/app:1.0.1",
                                "digest_update": False, "newer_tag": "1.0.1", "would_update": True, "reason": ""}]
    assert api_client_for(a["viewer"]).get(url, {"team": world["b"]["team"].pk}).json()["results"] == []
    c.labels = {"dockerforge.update.monitor-only": "true"}
    c.save()
    assert api_client_for(a["viewer"]).get(url).json()["results"][0]["items"][0]["reason"] == "monitor-only"


def test_check_request_roles(world):
    a, b = world["a"], world["b"]
    url = reverse("api:update-check-list")
    assert api_client_for(a["viewer"]).post(url, {"container": a["container"].pk}, format="json").status_code == 403
    assert api_client_for(a["operator"]).post(url, {"container": b["container"].pk}, format="json").status_code == 404
    assert api_client_for(a["viewer"]).get(url).json()["results"][0]["container"] == a["container"].pk


def test_version_api_and_pages(world, client):
    import dockerforge

    resp = api_client_for(world["a"]["viewer"]).get(reverse("api:version"))
    assert resp.status_code == 200 and resp.json()["version"] == dockerforge.__version__ and resp.json()["release_feed"] is None
    assert api_client_for(None).get(reverse("api:version")).status_code in (401, 403)
    client.force_login(world["a"]["viewer"])
    assert dockerforge.__version__ in client.get(reverse("updates:about")).content.decode()
    page = client.get(reverse("updates:list")).content.decode()
    assert "web-a" in page and "web-b" not in page
    detail = client.get(reverse("containers:detail", args=[world["a"]["container"].pk])).content.decode()
    assert 'data-update-status="available"' in detail and "Check now" not in detail  # viewers see, cannot act
    dash = client.get(reverse("web:dashboard")).content.decode()
    assert "with an update available" in dash
