import os

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken, Membership, Team
from apps.core.roles import Role

from .helpers import RUN_ID, TEST_LABEL, WORKER_LABEL, require_service, worker_id

# Real engines (a TLS dockerd, an sshd) shared by every test package: session fixtures must be
# registered once, here, so one session never starts two of them.
pytest_plugins = ["tests.fixtures.engines"]

ROLES = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)


@pytest.fixture(autouse=True, scope="session")
def _celery_in_process():
    """Unit tests run tasks in-process; a real worker only where the worker is under test."""
    from dockerforge.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = False
    yield


@pytest.fixture(autouse=True)
def _celery_join_allowed():
    """Celery's "joining would block" flag is one global: eager tasks set and restore it, and
    two of them finishing out of order on two threads (publishers in thread pools) can leave it
    set, which then fails a later test's result.get(). Each test starts with it clear."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # Servers under test listen on 127.0.0.1: allow loopback for the outbound policy (one
    # test proves the default denies it).
    settings.OUTBOUND_ALLOW = ["127.0.0.0/8", "::1/128"]
    # Several test workers and sessions can share one engine: give engine calls room (tests
    # of unreachable hosts pass their own short timeouts).
    settings.ENGINE_TIMEOUT = 30.0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LOGIN_RATE_LIMIT = 5
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests
    yield settings


@pytest.fixture
def make_team(db):
    counter = {"n": 0}

    def make(name=None):
        counter["n"] += 1
        name = name or f"team-{counter['n']}"
        return Team.objects.create(name=name, slug=name.lower().replace(" ", "-"))

    return make


@pytest.fixture
def make_user(db):
    counter = {"n": 0}

    def make(team=None, role=Role.VIEWER, username=None, **extra):
        counter["n"] += 1
        username = username or f"user{counter['n']}"
        user = get_user_model().objects.create_user(username=username, password="pw-" + username, email=f"{username}@example.test", **extra)
        if team is not None:
            Membership.objects.create(user=user, team=team, role=role)
        return user

    return make


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.test", "pw-root")


@pytest.fixture
def two_teams(make_team, make_user):
    """Teams A and B with a viewer, an operator and an admin each."""
    teams = {}
    for key in ("a", "b"):
        team = make_team(f"Team {key.upper()}")
        members = {role: make_user(team, role, username=f"{key}_{role}") for role in ROLES}
        teams[key] = {"team": team, **members}
    return teams


def api_client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        _, raw = ApiToken.issue(user, f"test-{user.pk}-{ApiToken.objects.filter(user=user).count()}")
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


@pytest.fixture
def api_client():
    return api_client_for


# --- the real Docker engine -------------------------------------------------------------

@pytest.fixture(scope="session")
def docker_socket():
    """The machine's Docker engine (started by .ci/run / scripts/services.sh)."""
    import docker

    try:
        client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="1.41", timeout=10)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        require_service("the Docker engine at /var/run/docker.sock", False, str(exc))
    yield "unix:///var/run/docker.sock"
    # Remove exactly what this run created, even when a test failed. Under xdist each worker
    # removes only its own (WORKER_LABEL): the others may still be using theirs.
    labels = [f"{TEST_LABEL}={RUN_ID}"] + ([f"{WORKER_LABEL}={worker_id()}"] if os.environ.get("PYTEST_XDIST_WORKER") else [])
    for container in client.containers.list(all=True, sparse=True, filters={"label": labels}):
        _ignore_gone(container.remove, force=True, v=True)
    for network in client.networks.list(filters={"label": labels}):
        _ignore_gone(network.remove)
    for volume in client.volumes.list(filters={"label": labels}):
        _ignore_gone(volume.remove, force=True)
    client.close()


def _ignore_gone(remove, **kwargs) -> None:
    import docker

    try:
        remove(**kwargs)
    except docker.errors.NotFound:
        pass  # a test removed it meanwhile


@pytest.fixture(scope="session")
def test_labels():
    return {TEST_LABEL: RUN_ID, WORKER_LABEL: worker_id()}
