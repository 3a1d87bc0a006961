"""Read API of the mirror: team scoping, the shared FilterSet, stale flag, docker-events,
constant query count; the composition point merges other slices' mixins."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.containers.api import viewsets
from apps.core import events
from apps.core.roles import Action

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(two_teams, make_host, make_container):
    a, b = two_teams["a"], two_teams["b"]
    return {"a": a, "b": b, "host_a": make_host(a["team"], name="alpha"), "host_b": make_host(b["team"], name="bravo"),
            "make": make_container}


def test_containers_list_is_team_scoped_and_filtered(api_client, setup):
    make = setup["make"]
    web = make(setup["host_a"], "web", labels={"tier": "front"}, compose_project="shop")
    make(setup["host_a"], "db", state="exited")
    other = make(setup["host_b"], "theirs")
    client = api_client(setup["a"]["viewer"])
    names = {r["name"] for r in client.get("/api/v1/containers/").json()["results"]}
    assert names == {"web", "db"}
    assert [r["name"] for r in client.get("/api/v1/containers/", {"state": "running"}).json()["results"]] == ["web"]
    assert [r["name"] for r in client.get("/api/v1/containers/", {"label": "tier=front"}).json()["results"]] == ["web"]
    assert [r["name"] for r in client.get("/api/v1/containers/", {"stack": "shop"}).json()["results"]] == ["web"]
    assert [r["name"] for r in client.get("/api/v1/containers/", {"ordering": "-name"}).json()["results"]] == ["web", "db"]
    detail = client.get(f"/api/v1/containers/{web.pk}/").json()
    assert detail["host_name"] == "alpha" and "inspect" in detail and detail["stale"] is False
    assert client.get(f"/api/v1/containers/{other.pk}/").status_code == 404


@pytest.mark.parametrize("params", [{"state": "bogus"}, {"label": "=v"}, {"host": "nope"}])
def test_bad_filters_answer_400_with_field_details(api_client, setup, params):
    response = api_client(setup["a"]["viewer"]).get("/api/v1/containers/", params)
    assert response.status_code == 400
    assert set(params) <= set(response.json()["error"]["details"])


def test_another_teams_host_is_not_a_valid_filter(api_client, setup):
    response = api_client(setup["a"]["viewer"]).get("/api/v1/containers/", {"host": setup["host_b"].pk})
    assert response.status_code == 400 and "host" in response.json()["error"]["details"]


def test_removed_and_stale_flags(api_client, setup, make_host):
    down = make_host(setup["a"]["team"], status="down")
    setup["make"](down, "stale-one")
    setup["make"](setup["host_a"], "gone", removed_at=timezone.now())
    client = api_client(setup["a"]["viewer"])
    rows = {r["name"]: r for r in client.get("/api/v1/containers/").json()["results"]}
    assert rows["stale-one"]["stale"] is True and rows["gone"]["removed_at"]
    assert "gone" not in {r["name"] for r in client.get("/api/v1/containers/", {"removed": "hide"}).json()["results"]}


def test_images_volumes_networks_lists(api_client, setup):
    from apps.containers.models import Image, Network, Volume

    h = setup["host_a"]
    Image.objects.create(team=h.team, host=h, docker_id="sha256:" + "b" * 64, repo_tags=["app:1"], tags_text="app:1")
    Volume.objects.create(team=h.team, host=h, name="data")
    Network.objects.create(team=h.team, host=h, docker_id="c" * 64, name="front")
    client = api_client(setup["a"]["viewer"])
    assert client.get("/api/v1/images/", {"q": "app"}).json()["results"][0]["repo_tags"] == ["app:1"]
    assert client.get("/api/v1/volumes/").json()["results"][0]["name"] == "data"
    assert client.get("/api/v1/networks/").json()["results"][0]["name"] == "front"
    assert api_client(setup["b"]["viewer"]).get("/api/v1/volumes/").json()["count"] == 0


def test_docker_events_lists_engine_events_only(api_client, setup):
    h = setup["host_a"]
    events.publish("container.start", h.team_id, host=h, summary="started")
    events.publish("host.down", h.team_id, host=h, summary="down")
    events.publish("container.die", setup["b"]["team"].pk, summary="theirs")
    body = api_client(setup["a"]["viewer"]).get("/api/v1/docker-events/").json()
    assert [e["kind"] for e in body["results"]] == ["container.start"]


def test_list_query_count_is_constant(api_client, setup):
    client = api_client(setup["a"]["viewer"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/containers/").status_code == 200
        return len(ctx.captured_queries)

    setup["make"](setup["host_a"])
    count()  # warm up (the token's first use is recorded once)
    few = count()
    for _ in range(20):
        setup["make"](setup["host_a"])
    assert count() == few


def test_composition_merges_mixin_actions_and_roles():
    from rest_framework.decorators import action

    class FakeLifecycle:
        action_roles = {"start": Action.OPERATE}

        @action(detail=True, methods=["post"])
        def start(self, request, pk=None):  # pragma: no cover - only composed
            raise NotImplementedError

    composed = viewsets.compose("X", viewsets.views.ContainerReadMixin, FakeLifecycle)
    assert composed.action_roles["start"] == Action.OPERATE
    assert "start" in {a.url_path for a in composed.get_extra_actions()}
    assert viewsets._optional("no_such_slice_module", "Anything") == ()
