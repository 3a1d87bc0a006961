"""Admin (mirror read-only, credential password write-only) and the sync entry points:
the hosts app's sync Operation runs the mirror sync through the core hook; beat's sync_all."""

import pytest
from django.urls import reverse

from apps.activity.models import Operation
from apps.containers import tasks
from apps.containers.models import Container, RegistryCredential
from apps.hosts import services as host_services

pytestmark = pytest.mark.django_db


def test_mirror_admin_is_read_only_and_team_scoped(client, two_teams, make_host, make_container):
    a, b = two_teams["a"], two_teams["b"]
    mine = make_container(make_host(a["team"]), "mine")
    make_container(make_host(b["team"]), "theirs")
    admin_user = a["admin"]
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    body = client.get(reverse("admin:containers_container_changelist")).content.decode()
    assert "mine" in body and "theirs" not in body
    assert client.get(reverse("admin:containers_container_add")).status_code == 403
    page = client.get(reverse("admin:containers_container_change", args=[mine.pk]))
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()
    assert client.get(reverse("admin:containers_container_changelist"), {"state__exact": "running"}).status_code == 200


def test_registry_credential_password_is_write_only(client, two_teams):
    a = two_teams["a"]
    admin_user = a["admin"]
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    cred = RegistryCredential.objects.create(team=a["team"], registry="127.0.0.1:5000", username="u", password="s3cret-pw")
    page = client.get(reverse("admin:containers_registrycredential_change", args=[cred.pk])).content.decode()
    assert "s3cret-pw" not in page
    response = client.post(reverse("admin:containers_registrycredential_change", args=[cred.pk]),
                           {"team": a["team"].pk, "registry": "127.0.0.1:5000", "username": "v", "password": ""})
    assert response.status_code == 302
    cred.refresh_from_db()
    assert cred.username == "v" and cred.password == "s3cret-pw"  # blank keeps the stored one


@pytest.mark.docker
def test_host_sync_operation_runs_the_mirror_sync(local_host, run_container, make_user, django_capture_on_commit_callbacks):
    from apps.core.roles import Role

    cid, _ = run_container()
    operator = make_user(local_host.team, Role.OPERATOR)
    with django_capture_on_commit_callbacks(execute=True):
        op = host_services.request_sync(operator, local_host)
    op.refresh_from_db()
    assert op.status == Operation.Status.SUCCEEDED, op.error
    assert op.result["containers"]["containers"]["seen"] >= 1 and "Syncing containers" in op.log
    assert Container.objects.filter(host=local_host, docker_id=cid).exists()


@pytest.mark.docker
def test_sync_tasks(local_host, run_container, make_host):
    cid, _ = run_container()
    down = make_host(local_host.team, status="down")
    assert tasks.sync_all() == 1  # the down host waits for its listener
    assert Container.objects.filter(host=local_host, docker_id=cid).exists()
    assert not Container.objects.filter(host=down).exists()
    # A second sync of the same host while one holds the lease is skipped, not doubled.
    assert host_services.acquire_lease(local_host.pk, tasks.SYNC_LEASE, "someone-else", 60)
    assert tasks.sync_host.apply(args=[local_host.pk]).result == {"skipped": "another sync of this host is running"}
