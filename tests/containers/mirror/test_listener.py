"""The events listener against real engines: a container started with the plain docker CLI
reaches the mirror within 2 s without a sync and a WebSocket client receives the events;
an engine killed and brought back is shown down, stays readable, then resynced."""

import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.activity.models import Event
from apps.containers import listener as listener_mod
from apps.containers.listener import Supervisor
from apps.containers.models import Container
from apps.hosts import services as host_services
from apps.hosts.models import DockerHost, HostLease
from dockerforge.asgi import application
from tests.helpers import RUN_ID, TEST_LABEL, unique
from tests.ws.conftest import redis_layer, session_headers  # noqa: F401 - fixtures

from ..conftest import wait_for
from .conftest import IMAGE, docker_cli

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def test_cli_container_appears_within_two_seconds_without_a_sync(local_host, listening):
    listening(local_host)
    name = unique("cli")
    started = time.monotonic()
    cid = docker_cli("run", "-d", "--label", f"{TEST_LABEL}={RUN_ID}", "--name", name, IMAGE, "sleep", "60")
    row = wait_for(lambda: Container.objects.filter(host=local_host, docker_id=cid, state="running").first(), 2.0,
                   "running container in the mirror")
    assert time.monotonic() - started < 2.0 + 1.0  # includes the CLI's own run time
    assert row.name == name and row.labels[TEST_LABEL] == RUN_ID
    docker_cli("kill", cid)
    wait_for(lambda: Container.objects.filter(pk=row.pk, state="exited").exists(), 2.0, "exited state")
    docker_cli("rm", cid)
    wait_for(lambda: Container.objects.filter(pk=row.pk, removed_at__isnull=False).exists(), 2.0, "removed")
    expected = {"container.create", "container.start", "container.kill", "container.die", "container.destroy"}

    def kinds():
        return set(Event.objects.filter(target_kind="container", target_id=str(row.pk)).values_list("kind", flat=True))

    wait_for(lambda: expected <= kinds(), 2.0, f"events {expected}")
    event = Event.objects.get(target_id=str(row.pk), kind="container.start")
    assert event.payload["host"] == {"id": local_host.pk, "name": local_host.name}
    assert event.payload["target"]["labels"][TEST_LABEL] == RUN_ID


def test_websocket_client_receives_state_events(local_host, listening, redis_layer, make_user):  # noqa: F811
    viewer = make_user(local_host.team)
    headers = session_headers(Client(), viewer)
    listening(local_host)

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/events/", headers=headers)
        connected, _ = await comm.connect(timeout=5)
        assert connected
        await sync_to_async(docker_cli)("run", "-d", "--label", f"{TEST_LABEL}={RUN_ID}", IMAGE, "sleep", "60")
        kinds = []
        deadline = time.monotonic() + 10
        while "container.start" not in kinds and time.monotonic() < deadline:
            message = await comm.receive_json_from(timeout=5)
            assert set(message) <= {"type", "kind", "id", "host"}  # kind and ids only
            kinds.append(message.get("kind"))
        await comm.disconnect()
        return kinds

    kinds = async_to_sync(scenario)()
    assert "container.create" in kinds and "container.start" in kinds


def test_engine_killed_then_back_host_down_mirror_served_then_resynced(
    restartable_engine, team, listening, api_client, make_user
):
    engine = restartable_engine
    host = DockerHost.objects.create(team=team, name=unique("second"), url=engine.url, status=DockerHost.Status.UP)
    kept = docker_cli("run", "-d", "--label", f"{TEST_LABEL}={RUN_ID}", IMAGE, "sleep", "600", socket=f"unix://{engine.socket}")
    doomed = docker_cli("create", "--label", f"{TEST_LABEL}={RUN_ID}", IMAGE, "true", socket=f"unix://{engine.socket}")
    listening(host)
    assert Container.objects.filter(host=host, docker_id__in=[kept, doomed], removed_at=None).count() == 2

    engine.stop()
    wait_for(lambda: DockerHost.objects.filter(pk=host.pk, status="down").exists(), 15, "host marked down")
    assert Event.objects.filter(kind="host.down", host_id=host.pk).exists()
    # The mirror is still served, flagged stale.
    client = api_client(make_user(team))
    body = client.get("/api/v1/containers/", {"host": host.pk, "removed": "all"}).json()
    assert {r["docker_id"] for r in body["results"]} >= {kept, doomed}
    assert all(r["stale"] for r in body["results"])

    # Back, but unreachable to the portal (no link) while things change behind its back.
    engine.start(linked=False)
    direct = f"unix://{engine.socket}"
    docker_cli("rm", "-f", doomed, socket=direct)
    created = docker_cli("create", "--label", f"{TEST_LABEL}={RUN_ID}", IMAGE, "true", socket=direct)
    time.sleep(1.5)  # the listener keeps failing meanwhile
    assert not Container.objects.filter(host=host, docker_id=created).exists()
    engine.relink()

    wait_for(lambda: Container.objects.filter(host=host, docker_id=created, removed_at=None).exists(), 20, "resync: new container")
    assert Container.objects.get(host=host, docker_id=doomed).removed_at is not None
    assert DockerHost.objects.get(pk=host.pk).status == "up"
    body = client.get("/api/v1/containers/", {"host": host.pk}).json()
    assert not any(r["stale"] for r in body["results"])


def test_leases_make_one_supervisor_serve_each_host(local_host, settings):
    settings.LISTENER_BACKOFF_MIN = 0.2
    first, second = Supervisor(holder="proc-1", lease_seconds=30), Supervisor(holder="proc-2", lease_seconds=30)
    try:
        first.tick()
        second.tick()
        assert set(first.listeners) == {local_host.pk} and not second.listeners
        assert HostLease.objects.get(host=local_host, kind=listener_mod.LEASE_KIND).holder == "proc-1"
        # The first process stops (its lease is released): the second picks the host up.
        first.shutdown()
        second.tick()
        assert set(second.listeners) == {local_host.pk}
        assert second.listeners[local_host.pk].connected.wait(30)
        # A host added later is picked up at the next tick.
        other = DockerHost.objects.create(team=local_host.team, name="again", url=local_host.url, status="up")
        second.tick()
        assert other.pk in second.listeners
        assert host_services.acquire_lease(other.pk, listener_mod.LEASE_KIND, "proc-1") is False
    finally:
        first.shutdown()
        second.shutdown()
