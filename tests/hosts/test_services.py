"""test_connection, events on state change, leases and the sweep, against real engines."""

import time

import docker
import pytest

from apps.activity.models import AuditEvent, Event
from apps.core import actor as actor_ctx
from apps.hosts import services
from apps.hosts.models import DockerHost, HostLease
from apps.hosts.validation import validate_host

pytestmark = pytest.mark.django_db


def test_unreachable_host_is_down_with_clear_error_within_timeout(two_teams, make_host):
    host = make_host(two_teams["a"]["team"], "tcp://127.0.0.1:1")
    started = time.monotonic()
    result = services.test_connection(host, timeout=3)
    assert time.monotonic() - started < 3
    assert not result.ok and not result.permanent
    assert result.error == "Connection refused by 127.0.0.1:1: is the engine listening there?"
    host.refresh_from_db()
    assert host.status == DockerHost.Status.DOWN and host.last_error == result.error and host.last_checked_at


def test_sweep_marks_down_and_publishes_host_down_once(two_teams, make_host, django_capture_on_commit_callbacks):
    team = two_teams["a"]["team"]
    host = make_host(team, "tcp://127.0.0.1:1", name="gone")
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.sweep(holder="sweeper-1", timeout=3)
    assert counts == {"tested": 1, "up": 0, "down": 1, "changed": 1}
    host.refresh_from_db()
    assert host.status == DockerHost.Status.DOWN
    event = Event.objects.get(kind="host.down")
    envelope = event.payload
    assert set(envelope) >= {"kind", "severity", "team", "host", "target", "occurred_at", "summary", "url", "data"}
    assert envelope["host"] == {"id": host.pk, "name": "gone"}
    assert envelope["team"] == team.pk and envelope["severity"] == "error"
    assert envelope["target"]["kind"] == "host" and envelope["url"] == f"/hosts/{host.pk}/"
    assert "Connection refused" in envelope["summary"]
    # Still down on the next sweep: no new event (only changes are published).
    services.sweep(holder="sweeper-1", timeout=3)
    assert Event.objects.filter(kind="host.down").count() == 1


def test_two_sweepers_only_one_holds_a_host(two_teams, make_host, settings):
    host = make_host(two_teams["a"]["team"])
    assert services.acquire_lease(host.pk, "sweep", "worker-a", seconds=60)
    assert not services.acquire_lease(host.pk, "sweep", "worker-b", seconds=60)
    assert services.acquire_lease(host.pk, "sweep", "worker-a", seconds=60)  # renewal
    assert services.sweep(holder="worker-b", timeout=2)["tested"] == 0
    assert HostLease.objects.get(host=host, kind="sweep").holder == "worker-a"
    # Once the holder stops renewing and the lease expires, another worker takes over.
    services.release_lease(host.pk, "sweep", "worker-a")
    assert services.sweep(holder="worker-b", timeout=2)["tested"] == 1
    assert HostLease.objects.get(host=host, kind="sweep").holder == "worker-b"
    assert not services.acquire_lease(host.pk, "sweep", "worker-a", seconds=60)


def test_request_test_connection_needs_operator_and_is_audited(two_teams, make_host):
    from django.core.exceptions import PermissionDenied

    a = two_teams["a"]
    host = make_host(a["team"])
    with pytest.raises(PermissionDenied):
        services.request_test_connection(a["viewer"], host)
    with actor_ctx.acting(actor_ctx.actor_for_user(a["operator"], "ui")):
        result = services.request_test_connection(a["operator"], host, timeout=2)
    audit = AuditEvent.objects.get(name="test_connection")
    assert audit.actor == a["operator"] and audit.object_id == str(host.pk)
    assert audit.after == {"ok": False, "status": "down", "error": result.error}


@pytest.mark.docker
def test_local_engine_registered_by_superuser_reports_real_version(two_teams, superuser, docker_socket, django_capture_on_commit_callbacks):
    team = two_teams["a"]["team"]
    values = validate_host({"name": "local", "url": docker_socket}, user=superuser, team=team)
    host = DockerHost.objects.create(team=team, **values)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.test_connection(host)
    reference = docker.DockerClient(base_url=docker_socket, version="1.41").version()
    assert result.ok and result.info["version"] == reference["Version"]
    host.refresh_from_db()
    assert host.status == "up" and host.engine_version == reference["Version"] and host.engine_info["cpus"] > 0
    assert Event.objects.filter(kind="host.up", host_id=host.pk).count() == 1


@pytest.mark.docker
def test_tls_host_connects_with_its_ca_despite_env_bundle(two_teams, tls_host_fields, tls_engine, monkeypatch, tmp_path):
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(tls_engine.material.other_ca.pem)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(bundle))
    a = two_teams["a"]
    values = validate_host({"name": "tls", **tls_host_fields}, user=a["admin"], team=a["team"])
    host = DockerHost.objects.create(team=a["team"], **values)
    result = services.test_connection(host)
    assert result.ok, result.error
    host.refresh_from_db()
    assert host.tls_client_key == tls_host_fields["tls_client_key"]  # decrypts...
    assert "PRIVATE KEY" not in _raw_column(host.pk, "tls_client_key")  # ...but is stored encrypted


def _raw_column(pk, column):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM hosts_dockerhost WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.docker
def test_tls_host_with_wrong_ca_is_refused(two_teams, tls_host_fields, tls_engine, make_host):
    host = make_host(two_teams["a"]["team"], **{**tls_host_fields, "tls_ca_cert": tls_engine.material.other_ca.pem})
    result = services.test_connection(host)
    assert not result.ok and result.permanent
    assert result.error == "TLS verification failed: the server certificate is not signed by the host's CA"


@pytest.mark.docker
def test_ssh_host_pinned_at_registration_answers(two_teams, ssh_host_fields, ssh_server, docker_socket):
    a = two_teams["a"]
    values = validate_host({"name": "ssh", **ssh_host_fields}, user=a["admin"], team=a["team"])
    assert values["ssh_host_key"] == ssh_server.host_key_public.strip()
    assert values["ssh_host_key_fingerprint"].startswith("SHA256:")
    host = DockerHost.objects.create(team=a["team"], **values)
    result = services.test_connection(host)
    assert result.ok, result.error
    reference = docker.DockerClient(base_url=docker_socket, version="1.41").version()
    assert result.info["version"] == reference["Version"]


@pytest.mark.docker
def test_ssh_host_whose_key_changed_is_refused(two_teams, ssh_host_fields, ssh_server, make_host):
    # The host was pinned to a key the server no longer presents.
    host = make_host(two_teams["a"]["team"], ssh_host_key=ssh_server.other_host_key_public, **ssh_host_fields)
    result = services.test_connection(host)
    assert not result.ok and result.permanent
    assert result.error.startswith("SSH host key mismatch for 127.0.0.1:")
    host.refresh_from_db()
    assert host.status == "down" and "re-pin" in host.last_error


def test_beat_task_runs_the_sweep(two_teams, make_host, settings):
    from apps.hosts.tasks import sweep_hosts
    from dockerforge.celery import app

    assert settings.CELERY_BEAT_SCHEDULE["hosts-sweep"]["task"] == sweep_hosts.name == "hosts.sweep"
    assert "hosts.sweep" in app.tasks
    host = make_host(two_teams["a"]["team"], "tcp://127.0.0.1:1")
    assert sweep_hosts.apply().get()["down"] == 1
    host.refresh_from_db()
    assert host.status == "down"
