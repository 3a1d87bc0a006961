"""Mirror pages: team scoping, filters (bad input is a field error), sorting, removed rows,
live-refresh hooks, and hostile text rendered escaped."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.activity.models import AuditEvent
from apps.containers.models import Image, Network, Volume
from apps.core import events

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def setup(two_teams, make_host, make_container):
    a, b = two_teams["a"], two_teams["b"]
    host_a = make_host(a["team"], name="alpha")
    host_b = make_host(b["team"], name="bravo")
    return {"a": a, "b": b, "host_a": host_a, "host_b": host_b, "make": make_container}


def test_list_shows_own_team_only_and_filters(client, setup):
    a, make = setup["a"], setup["make"]
    web = make(setup["host_a"], "web-1", labels={"tier": "front"}, compose_project="shop")
    make(setup["host_a"], "db-1", state="exited", labels={"tier": "back"})
    make(setup["host_b"], "other-team-secret")
    client.force_login(a["viewer"])
    url = reverse("containers:list")
    body = client.get(url).content.decode()
    assert "web-1" in body and "db-1" in body and "other-team-secret" not in body
    assert "web-1" in client.get(url, {"state": "running"}).content.decode()
    assert "db-1" not in client.get(url, {"state": "running"}).content.decode()
    assert "db-1" not in client.get(url, {"label": "tier=front"}).content.decode()
    assert "web-1" in client.get(url, {"label": "tier"}).content.decode()
    assert "db-1" not in client.get(url, {"stack": "shop"}).content.decode()
    assert "db-1" not in client.get(url, {"q": "web"}).content.decode()
    assert client.get(reverse("containers:detail", args=[web.pk])).status_code == 200


@pytest.mark.parametrize("params", [{"state": "bogus"}, {"label": "=x"}, {"host": "999999"}, {"ordering": "evil"}, {"page": "zz"}])
def test_bad_filter_input_is_a_field_error_not_a_500(client, setup, params):
    client.force_login(setup["a"]["viewer"])
    response = client.get(reverse("containers:list"), params)
    assert response.status_code == 200
    if "page" not in params:
        assert 'class="field-error"' in response.content.decode()


def test_other_teams_objects_answer_404(client, setup):
    c = setup["make"](setup["host_b"])
    client.force_login(setup["a"]["admin"])
    assert client.get(reverse("containers:detail", args=[c.pk])).status_code == 404
    assert client.get(reverse("containers:top", args=[c.pk])).status_code == 404
    assert client.post(reverse("containers:env", args=[c.pk])).status_code == 404


def test_viewer_cannot_reveal_environment(client, setup):
    c = setup["make"](setup["host_a"], inspect={"Config": {"Env": ["TOKEN=••••••"]}})
    client.force_login(setup["a"]["viewer"])
    page = client.get(reverse("containers:detail", args=[c.pk])).content.decode()
    assert "TOKEN" in page and "Reveal values" not in page
    assert client.post(reverse("containers:env", args=[c.pk])).status_code == 403
    client.force_login(setup["a"]["operator"])
    assert "Reveal values" in client.get(reverse("containers:detail", args=[c.pk])).content.decode()
    # The engine (127.0.0.1:1) is unreachable: a clear error, audited nothing, no 500.
    response = client.post(reverse("containers:env", args=[c.pk]))
    assert response.status_code == 200 and "Could not read the environment" in response.content.decode()
    assert not AuditEvent.objects.filter(name="reveal_env").exists()


def test_removed_rows_greyed_with_last_state_and_stale_hosts_flagged(client, setup, make_host):
    a = setup["a"]
    down = make_host(a["team"], name="downhost", status="down")
    gone = setup["make"](setup["host_a"], "gone-1", state="running", removed_at=timezone.now())
    setup["make"](down, "stale-1")
    client.force_login(a["viewer"])
    body = client.get(reverse("containers:list")).content.decode()
    assert f'id="container-{gone.pk}" class="removed"' in body and ">removed<" in body
    assert "stale-1" in body and ">stale<" in body and "unreachable" in body
    assert "gone-1" not in client.get(reverse("containers:list"), {"removed": "hide"}).content.decode()
    detail = client.get(reverse("containers:detail", args=[gone.pk])).content.decode()
    assert "last known state" in detail and "Running" in detail


def test_hostile_names_and_labels_render_escaped(client, setup):
    host = setup["host_a"]
    c = setup["make"](host, HOSTILE, labels={HOSTILE: HOSTILE, "x": '"><img src=x onerror=alert(1)>'},
                      status=HOSTILE, compose_project=HOSTILE,
                      inspect={"Config": {"Env": [f"{HOSTILE}=••••••"]}, "State": {"Health": {"Log": [{"Output": HOSTILE}]}}})
    img = Image.objects.create(team=host.team, host=host, docker_id="sha256:" + "a" * 64, repo_tags=[HOSTILE], tags_text=HOSTILE, labels={HOSTILE: HOSTILE})
    vol = Volume.objects.create(team=host.team, host=host, name=HOSTILE, labels={HOSTILE: HOSTILE})
    net = Network.objects.create(team=host.team, host=host, docker_id="n" * 64, name=HOSTILE, attached={"x": {"name": HOSTILE}})
    events.publish("container.start", host.team_id, host=host, target=events.ref("container", c, c.name, c.labels), summary=f"Container {HOSTILE} started")
    client.force_login(setup["a"]["viewer"])
    pages = [reverse("containers:list"), reverse("containers:detail", args=[c.pk]), reverse("containers:image_list"),
             reverse("containers:image_detail", args=[img.pk]), reverse("containers:volume_list"),
             reverse("containers:volume_detail", args=[vol.pk]), reverse("containers:network_list"),
             reverse("containers:network_detail", args=[net.pk]), reverse("containers:env", args=[c.pk])]
    for url in pages:
        body = client.get(url).content.decode()
        assert "<script>alert(1)" not in body, url
        assert "<img src=x" not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url


def test_list_page_query_count_is_constant(client, setup):
    client.force_login(setup["a"]["viewer"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("containers:list")).status_code == 200
        return len(ctx.captured_queries)

    setup["make"](setup["host_a"])
    few = count()
    for _ in range(20):
        setup["make"](setup["host_a"])
    assert count() == few


def test_htmx_request_gets_rows_partial_with_live_trigger(client, setup):
    setup["make"](setup["host_a"], "web-1")
    client.force_login(setup["a"]["viewer"])
    full = client.get(reverse("containers:list")).content.decode()
    assert 'hx-trigger="df:event[' in full and "<html" in full
    partial = client.get(reverse("containers:list"), HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and 'id="mirror-rows"' in partial.content.decode()
    assert "HX-Request" in partial["Vary"]


def test_sort_links_toggle_direction(client, setup):
    make = setup["make"]
    make(setup["host_a"], "aaa")
    make(setup["host_a"], "zzz")
    client.force_login(setup["a"]["viewer"])
    body = client.get(reverse("containers:list"), {"ordering": "-name"}).content.decode()
    assert body.index("zzz") < body.index("aaa")
    assert 'aria-sort="descending"' in body and "ordering=name" in body


def test_detail_renders_other_slices_panels(client, setup):
    from apps.core.registries import Panel, panels

    c = setup["make"](setup["host_a"])
    panels.add("container_detail", Panel(99, "mirror-test-panel", "Test", lambda request, obj: f"panel for {obj.pk}"))
    try:
        client.force_login(setup["a"]["viewer"])
        assert f"panel for {c.pk}" in client.get(reverse("containers:detail", args=[c.pk])).content.decode()
    finally:
        panels._by_page["container_detail"].pop("mirror-test-panel")
