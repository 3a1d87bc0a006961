"""Metric detectors read the monitoring app's real query API (samples written directly)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.ai.detectors import metrics
from apps.containers.models import Container
from apps.hosts.models import DockerHost
from apps.monitoring.models import Sample

pytestmark = pytest.mark.django_db


def _container(team):
    host = DockerHost.objects.create(team=team, name="h", url="tcp://127.0.0.1:1")
    return Container.objects.create(team=team, host=host, docker_id="c" * 64, name="web")


def _samples(container, **values):
    now = timezone.now()
    Sample.objects.bulk_create(
        [Sample(host_id=container.host_id, container=container, ts=now - timedelta(minutes=m), **values) for m in range(1, 6)]
    )


def test_memory_near_limit_and_cpu_throttling_are_found(make_team):
    container = _container(make_team())
    limit = 100 * 2**20
    _samples(container, mem=95 * 2**20, mem_limit=limit, cpu_throttled=40.0)
    rules = {f.rule_id for f in metrics.detect(container, limit)}
    assert rules == {"metrics.memory_near_limit", "metrics.cpu_throttled"}


def test_healthy_metrics_and_no_samples_find_nothing(make_team):
    container = _container(make_team())
    assert metrics.detect(container, 100 * 2**20) == []
    _samples(container, mem=10 * 2**20, mem_limit=100 * 2**20, cpu_throttled=1.0)
    assert metrics.detect(container, 100 * 2**20) == []
