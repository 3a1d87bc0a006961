import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts.models import AlertRule
from apps.containers.models import Container
from apps.hosts.models import DockerHost
from apps.monitoring.models import Sample
from tests.monitoring.conftest import engine, local_host, start_container  # noqa: F401 - shared engine fixtures


@pytest.fixture
def team(make_team):
    return make_team(f"alerts-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def host(team):
    return DockerHost.objects.create(team=team, name="h1", url="tcp://127.0.0.1:1", status=DockerHost.Status.UP)


@pytest.fixture
def make_container(team, host):
    def make(name="web", labels=None, state=Container.State.RUNNING, **fields):
        return Container.objects.create(team=team, host=host, docker_id=uuid.uuid4().hex * 2, name=name,
                                        labels=labels or {}, state=state, **fields)

    return make


@pytest.fixture
def sample():
    """Store one raw sample for a container (what the collector writes)."""

    def store(container, ago: float = 0.0, **metrics):
        return Sample.objects.create(host_id=container.host_id, container=container,
                                     ts=timezone.now() - timedelta(seconds=ago), **metrics)

    return store


@pytest.fixture
def cpu_rule(team):
    return AlertRule.objects.create(team=team, name="CPU high", kind="metric", metric="cpu", operator=">",
                                    threshold=50.0, hysteresis=10.0, for_seconds=0)


def alert_events(team, kind_prefix="alert."):
    from apps.activity.models import Event

    return list(Event.objects.filter(team_id=team.pk, kind__startswith=kind_prefix).order_by("pk"))
