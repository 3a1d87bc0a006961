"""The full sync against the real engine: rows appear, change, vanish (marked removed) and
come back; few queries whatever the number of containers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.containers import sync
from apps.containers.models import Container, Image, Network, Volume
from apps.core.fields import MASK
from tests.helpers import RUN_ID, TEST_LABEL, unique

from .conftest import docker_cli

pytestmark = [pytest.mark.docker, pytest.mark.django_db]


def test_sync_mirrors_containers_images_volumes_networks(local_host, run_container, test_labels):
    cid, name = run_container(extra=("-e", "SECRET_TOKEN=hunter2", "-p", "127.0.0.1::80", "--label", "app=web"))
    vol = unique("vol")
    docker_cli("volume", "create", "--label", f"{TEST_LABEL}={RUN_ID}", vol)
    net = unique("net")
    docker_cli("network", "create", "--label", f"{TEST_LABEL}={RUN_ID}", net)

    result = sync.sync_host(local_host)

    row = Container.objects.get(host=local_host, docker_id=cid)
    assert row.name == name and row.state == "running" and row.team_id == local_host.team_id
    assert row.labels["app"] == "web" and row.image == "dockerforge/busybox:test"
    assert row.ports and row.ports[0]["private"] == 80 and row.ports[0]["public"]
    assert row.networks[0]["name"] == "bridge"
    # Environment values never reach the database; names do.
    assert f"SECRET_TOKEN={MASK}" in row.inspect["Config"]["Env"]
    assert "hunter2" not in str(Container.objects.filter(pk=row.pk).values_list("inspect", flat=True)[0])
    assert Image.objects.filter(host=local_host, repo_tags__icontains="dockerforge/busybox:test").exists() or \
        Image.objects.filter(host=local_host, tags_text__contains="dockerforge/busybox:test").exists()
    assert Volume.objects.get(host=local_host, name=vol).removed_at is None
    assert Network.objects.get(host=local_host, name=net).removed_at is None
    assert Network.objects.get(host=local_host, name="bridge").attached.get(cid, {}).get("name") == name
    assert result.containers.seen >= 1


def test_vanished_rows_are_marked_removed_and_revived(local_host, run_container):
    cid, _ = run_container()
    vol = unique("vol")
    docker_cli("volume", "create", "--label", f"{TEST_LABEL}={RUN_ID}", vol)
    sync.sync_host(local_host)
    docker_cli("rm", "-f", cid)
    docker_cli("volume", "rm", vol)

    sync.sync_host(local_host)
    gone = Container.objects.get(host=local_host, docker_id=cid)
    assert gone.removed_at is not None and gone.state == "running"  # last known state kept
    assert Volume.objects.get(host=local_host, name=vol).removed_at is not None
    assert not Container.objects.present().filter(pk=gone.pk).exists()

    docker_cli("volume", "create", "--label", f"{TEST_LABEL}={RUN_ID}", vol)
    sync.sync_host(local_host)
    assert Volume.objects.get(host=local_host, name=vol).removed_at is None


def test_state_change_is_picked_up_and_unchanged_rows_are_not_reinspected(local_host, run_container, monkeypatch):
    # Other sessions share this engine and change their own containers meanwhile: watch
    # which ids the sync inspects (the real call still runs) rather than global counts.
    inspected: list[str] = []
    real_inspect = sync.engine.inspect_container

    def recording_inspect(client, container_id):
        inspected.append(container_id)
        return real_inspect(client, container_id)

    monkeypatch.setattr(sync.engine, "inspect_container", recording_inspect)
    cid, _ = run_container()
    sync.sync_host(local_host)
    docker_cli("stop", "-t", "0", cid)
    inspected.clear()
    result = sync.sync_host(local_host)
    row = Container.objects.get(host=local_host, docker_id=cid)
    assert row.state == "exited" and row.exit_code is not None and row.finished_at is not None
    assert cid in inspected and result.containers.written >= 1
    inspected.clear()
    sync.sync_host(local_host)
    assert cid not in inspected


def test_sync_query_count_does_not_grow_with_containers(local_host, run_container):
    def queries() -> int:
        # The least of three syncs: the engine is shared with other test runs, whose objects
        # coming and going between two syncs cost a few writes that are not ours.
        counts = []
        for _ in range(3):
            with CaptureQueriesContext(connection) as ctx:
                sync.sync_host(local_host, full=True)
            counts.append(len(ctx.captured_queries))
        return min(counts)

    run_container()
    few = queries()
    for _ in range(4):
        run_container()
    assert queries() == few
