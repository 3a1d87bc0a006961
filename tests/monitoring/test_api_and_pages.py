"""metrics/ API (series, latest list, team scoping, field errors), /metrics, the chart
stream and the panels on container, host and dashboard pages."""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from apps.containers.models import Container
from apps.core.roles import Role
from apps.hosts.models import DockerHost
from apps.monitoring.collector import publish_points
from apps.monitoring.models import Sample
from apps.monitoring.panels import container_charts
from dockerforge.asgi import application
from tests.conftest import api_client_for
from tests.ws.conftest import session_headers

pytestmark = pytest.mark.django_db
URL = "/api/v1/metrics/"


def world(team, name):
    host = DockerHost.objects.create(team=team, name=f"{name}-host", url="tcp://127.0.0.1:1")
    c = Container.objects.create(team=team, host=host, docker_id=name * 8, name=f"{name}-ctr", image="busybox", compose_project="shop")
    now = datetime.now(tz=UTC)
    Sample.objects.bulk_create(
        [Sample(host=host, container=c, ts=now - timedelta(seconds=10 * i), cpu=float(i), mem=1000 + i, mem_limit=4000,
                cpu_ns=10**9 * (100 - i), net_rx_bytes=5000) for i in range(6)]
        + [Sample(host=host, container=None, ts=now - timedelta(seconds=10 * i), cpu=float(i), running=1) for i in range(6)]
    )
    return host, c


@pytest.fixture
def teams(two_teams):
    a, b = two_teams["a"], two_teams["b"]
    return {"a": (a, *world(a["team"], "aaaa")), "b": (b, *world(b["team"], "bbbb"))}


def test_series_of_own_container_and_host(teams):
    members, host, c = teams["a"]
    client = api_client_for(members[Role.VIEWER])
    body = client.get(URL, {"container": c.pk, "metric": "cpu,mem_percent", "since": "15m", "step": "10"}).json()
    assert body["target"] == {"kind": "container", "id": c.pk, "name": c.name}
    assert body["tier"] == "raw" and body["columns"] == ["ts", "avg", "min", "max"]
    assert sorted(p[1] for p in body["series"]["cpu"]) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert body["series"]["mem_percent"][-1][1] == pytest.approx(25.0)
    assert body["units"] == {"cpu": "percent", "mem_percent": "percent"}
    host_body = client.get(URL, {"host": host.pk, "metric": "running"}).json()
    assert host_body["target"]["kind"] == "host" and len(host_body["series"]["running"]) == 6


def test_other_teams_objects_answer_404(teams):
    members, _, _ = teams["a"]
    _, other_host, other_c = teams["b"]
    client = api_client_for(members[Role.ADMIN])
    for params in ({"container": other_c.pk}, {"host": other_host.pk}):
        resp = client.get(URL, params)
        assert resp.status_code == 404 and other_c.name not in resp.content.decode()
    listed = client.get(URL).json()
    assert [row["name"] for row in listed["results"]] == ["aaaa-ctr"]
    assert listed["results"][0]["latest"]["cpu"] == 0.0


@pytest.mark.parametrize("params, field", [
    ({"metric": "bogus"}, "metric"),
    ({"since": "yesterday"}, "since"),
    ({"step": "0"}, "step"),
    ({"step": "-5m"}, "step"),
    ({"since": "1000d"}, "since"),
    ({"container": "x"}, "container"),
])
def test_bad_input_gives_field_errors(teams, params, field):
    members, host, c = teams["a"]
    query = {"container": c.pk, **params}
    resp = api_client_for(members[Role.VIEWER]).get(URL, query)
    assert resp.status_code == 400, resp.content
    assert field in resp.json()["error"]["details"]


def test_anonymous_is_refused(teams):
    assert Client().get(URL).status_code in (401, 403)


def test_prometheus_token_and_superuser(settings, teams, superuser):
    settings.METRICS_TOKEN = "s3cret-token"
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    members, _, _ = teams["a"]
    assert api_client_for(members[Role.ADMIN]).get("/metrics").status_code == 401  # not a superuser
    resp = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/plain")
    assert api_client_for(superuser).get("/metrics").status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(resp.content.decode())}
    working = [s for s in families["container_memory_working_set_bytes"].samples if s.labels["name"] == "aaaa-ctr"]
    assert working[0].labels == {"host": "aaaa-host", "name": "aaaa-ctr", "image": "busybox", "compose_project": "shop"}
    assert working[0].value == 1000
    cpu = [s for s in families["container_cpu_usage_seconds"].samples if s.labels.get("name") == "aaaa-ctr"]
    assert cpu[0].name == "container_cpu_usage_seconds_total" and cpu[0].value == 100.0
    assert "dockerforge_host_up" in families


def test_registered_collectors_are_exposed_and_failures_contained(settings, superuser):
    from prometheus_client.core import GaugeMetricFamily

    from apps.core.registries import metric_collectors

    class Mine:
        def collect(self):
            g = GaugeMetricFamily("dockerforge_test_things", "things")
            g.add_metric([], 42)
            yield g

    class Broken:
        def collect(self):
            raise RuntimeError("boom")

    metric_collectors.register("test-mine", Mine())
    metric_collectors.register("test-broken", Broken())
    try:
        text = api_client_for(superuser).get("/metrics").content.decode()
    finally:
        metric_collectors.unregister("test-mine")
        metric_collectors.unregister("test-broken")
    assert "dockerforge_test_things 42.0" in text


@pytest.mark.django_db(transaction=True)
def test_chart_stream_checks_the_team_and_pushes_points(in_memory_layer, two_teams):
    a, b = two_teams["a"], two_teams["b"]
    host, c = world(a["team"], "cccc")
    mine = session_headers(Client(), a["viewer"])
    theirs = session_headers(Client(), b["admin"])

    async def scenario():
        refused = WebsocketCommunicator(application, f"/ws/metrics/container/{c.pk}/", headers=theirs)
        ok, code = await refused.connect(timeout=5)
        assert not ok and code == 4404
        sock = WebsocketCommunicator(application, f"/ws/metrics/container/{c.pk}/", headers=mine)
        assert (await sock.connect(timeout=5))[0]
        sample = Sample(host_id=host.pk, container_id=c.pk, ts=datetime.now(tz=UTC), cpu=12.5, mem=42)
        totals = Sample(host_id=host.pk, container_id=None, ts=sample.ts, cpu=12.5, running=1)
        await database_sync_to_async(publish_points)(host, [sample], totals)
        message = await sock.receive_json_from(timeout=5)
        assert message["type"] == "points" and message["values"] == {"cpu": 12.5, "mem": 42}
        await sock.disconnect()

    async_to_sync(scenario)()


def test_panels_on_container_host_and_dashboard_pages(teams, rf):
    members, host, c = teams["a"]
    client = Client()
    client.force_login(members[Role.VIEWER])
    page = client.get(reverse("hosts:detail", args=[host.pk])).content.decode()
    assert 'data-metrics-panel data-kind="host"' in page and f"/ws/metrics/host/{host.pk}/" in page
    assert "uPlot-1.6.32.iife.min.js" in page
    request = rf.get("/")
    request.user = members[Role.VIEWER]
    html = container_charts(request, c)
    assert f'data-id="{c.pk}"' in html and f"/ws/metrics/container/{c.pk}/" in html
    dashboard = client.get(reverse("web:dashboard")).content.decode()
    assert "Top containers" in dashboard and "aaaa-ctr" in dashboard and "bbbb-ctr" not in dashboard


def test_container_names_are_escaped_in_the_top_table(two_teams):
    a = two_teams["a"]
    host, c = world(a["team"], "dddd")
    Container.objects.filter(pk=c.pk).update(name="<script>alert(1)</script>")
    client = Client()
    client.force_login(a["viewer"])
    page = client.get(reverse("web:dashboard")).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
