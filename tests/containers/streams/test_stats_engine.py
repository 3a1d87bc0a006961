"""Live stats through the API and the detail-page fragment, on the real engine."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.containers.models import Container
from tests.conftest import api_client_for

pytestmark = [pytest.mark.docker, pytest.mark.django_db]


def test_stats_api_cpu_memory_pids(run_container, two_teams):
    # A busy loop, so CPU % is clearly above zero.
    container = run_container(["sh", "-c", "while true; do :; done"])
    response = api_client_for(two_teams["a"]["viewer"]).get(f"/api/v1/containers/{container.pk}/stats/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["cpu_percent"] is not None and body["cpu_percent"] > 5
    assert 0 < body["memory_used"] < body["memory_limit"]
    assert body["pids"] >= 1 and body["online_cpus"] >= 1
    assert body["net_rx"] >= 0
    # The next read uses the cached previous sample (no second sample needed): rates appear.
    again = api_client_for(two_teams["a"]["viewer"]).get(f"/api/v1/containers/{container.pk}/stats/").json()
    assert again["net_rx_rate"] is not None
    assert api_client_for(two_teams["b"]["admin"]).get(f"/api/v1/containers/{container.pk}/stats/").status_code == 404


def test_stats_fragment_polls_while_running_and_stops_when_not(run_container, two_teams):
    container = run_container(["sleep", "300"])
    client = Client()
    client.force_login(two_teams["a"]["viewer"])
    html = client.get(reverse("containers:stats", args=[container.pk])).content.decode()
    assert 'hx-trigger="every 3s"' in html and 'data-stat="memory"' in html
    Container.objects.filter(pk=container.pk).update(state=Container.State.EXITED)
    html = client.get(reverse("containers:stats", args=[container.pk])).content.decode()
    assert "Not running" in html and "hx-trigger" not in html


def test_panels_registered_and_console_only_for_operators(run_container, two_teams, rf):
    from apps.core.registries import panels

    container = run_container(["sleep", "300"])
    names = [p.name for p in panels.for_page("container_detail")]
    assert {"logs", "console", "stats"} <= set(names)
    console = next(p for p in panels.for_page("container_detail") if p.name == "console")
    for role, shown in (("viewer", False), ("operator", True), ("admin", True)):
        request = rf.get("/")
        request.user = two_teams["a"][role]
        html = console.render(request, container)
        assert bool(html) is shown
        if shown:
            assert f'data-exec-console="/ws/containers/{container.pk}/exec/"' in html
    logs_panel = next(p for p in panels.for_page("container_detail") if p.name == "logs")
    request = rf.get("/")
    request.user = two_teams["a"]["viewer"]
    assert reverse("containers:logs", args=[container.pk]) in logs_panel.render(request, container)
