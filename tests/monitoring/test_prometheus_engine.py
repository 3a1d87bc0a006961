"""/metrics after a real collector round carries the labelled series of the test containers."""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from apps.monitoring.collector import HostCollector

from .conftest import mirror

pytestmark = [pytest.mark.docker, pytest.mark.django_db]


def test_metrics_exposition_has_the_test_containers(local_host, start_container, settings):
    settings.METRICS_TOKEN = "scrape-me"
    limited = mirror(local_host, start_container("sleep 600", mem_limit="64m", labels={"com.docker.compose.project": "monproj"}))
    other = mirror(local_host, start_container("sleep 600"))
    HostCollector(local_host.pk).round()
    text = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").content.decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}

    def series(family, name):
        return [s for s in families[family].samples if s.labels.get("name") == name]

    limit = series("container_spec_memory_limit_bytes", limited.name)
    assert limit[0].value == 64 * 1024 * 1024
    assert limit[0].labels == {"host": "local", "name": limited.name, "image": "dockerforge/busybox:test", "compose_project": "monproj"}
    for family in ("container_cpu_usage_seconds", "container_memory_working_set_bytes", "container_memory_usage_bytes",
                   "container_network_receive_bytes", "container_network_transmit_bytes", "container_fs_reads_bytes",
                   "container_fs_writes_bytes", "container_pids_current"):
        for name in (limited.name, other.name):
            assert series(family, name), f"{family} lacks {name}"
    assert series("container_cpu_usage_seconds", other.name)[0].value > 0
    ages = [s for s in families["dockerforge_collector_last_sample_age_seconds"].samples if s.labels["host"] == "local"]
    assert ages and 0 <= ages[0].value < 30
    disk = {s.labels["kind"] for s in families["dockerforge_host_disk_usage_bytes"].samples if s.labels["host"] == "local"}
    assert disk == {"images", "containers", "volumes", "build_cache"}
