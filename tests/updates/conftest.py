"""Updates against the real engine and a real local registry (htpasswd auth, 127.0.0.1)."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from apps.containers.models import Container, RegistryCredential
from apps.hosts.models import DockerHost
from tests.containers.resources.conftest import BASE_IMAGE, docker_client, registry  # noqa: F401 - the session registry fixture
from tests.helpers import RUN_ID, TEST_LABEL, unique

HEALTHY = "HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD true\n"
UNHEALTHY = "HEALTHCHECK --interval=1s --timeout=2s --retries=1 CMD false\n"
LODASH = json.dumps({"name": "lodash", "version": "4.17.20"})
LODASH_OSV = [{
    "id": "GHSA-UPD-0001", "aliases": ["CVE-2099-4242"], "modified": "2026-01-01T00:00:00Z",
    "database_specific": {"severity": "CRITICAL"},
    "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                  "ranges": [{"type": "SEMVER", "events": [{"introduced": "4.0.0"}, {"fixed": "4.17.21"}]}]}],
}]


def _context(marker: str, extra: str, *, cmd: str, files: dict[str, str]) -> bytes:
    dockerfile = (f"FROM {BASE_IMAGE}\nRUN echo '{marker}' > /variant\n" + "".join(f"COPY {p} /{p}\n" for p in files)
                  + f"LABEL {TEST_LABEL}={RUN_ID}\nSTOPSIGNAL SIGKILL\n{extra}\nCMD {cmd}\n")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in {"Dockerfile": dockerfile, **files}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Pusher:
    """Build images on the machine's engine and push them to the test registry."""

    def __init__(self, reg):
        self.registry = reg
        self.client = docker_client()
        self.refs: list[str] = []

    def push(self, repo: str, tag: str, *, extra: str = "", cmd: str = '["sh", "-c", "exec sleep 3600"]',
             files: dict[str, str] | None = None) -> str:
        ref = f"{self.registry.address}/{repo}:{tag}"
        context = _context(unique(f"{repo}-{tag}"), extra, cmd=cmd, files=files or {})
        self.client.images.build(fileobj=io.BytesIO(context), custom_context=True, tag=ref, rm=True, forcerm=True)
        auth = {"username": self.registry.username, "password": self.registry.password}
        for message in self.client.api.push(f"{self.registry.address}/{repo}", tag=tag, stream=True, decode=True, auth_config=auth):
            assert "error" not in message, message
        self.refs.append(ref)
        return ref

    def close(self):
        for ref in self.refs:
            try:
                self.client.images.remove(ref, force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.client.close()


@pytest.fixture
def pusher(registry):  # noqa: F811
    p = Pusher(registry)
    yield p
    p.close()


@pytest.fixture
def team_a(two_teams):
    return two_teams["a"]


@pytest.fixture
def host(db, docker_socket, team_a, registry) -> DockerHost:  # noqa: F811
    RegistryCredential.objects.create(team=team_a["team"], registry=registry.address, username=registry.username,
                                      password=registry.password)
    return DockerHost.objects.create(team=team_a["team"], name=unique("local"), url=docker_socket, status=DockerHost.Status.UP)


@pytest.fixture
def run_container(docker_socket, test_labels, host):
    """run(ref, **docker kwargs) -> the mirrored Container row of a running container."""
    from apps.containers.sync import sync_host

    client = docker_client(docker_socket)

    def run(ref: str, **kwargs) -> Container:
        labels = {**test_labels, **kwargs.pop("labels", {})}
        c = client.containers.run(ref, name=kwargs.pop("name", unique("upd")), labels=labels, detach=True, **kwargs)
        sync_host(host)
        return Container.objects.get(host=host, docker_id=c.id)

    yield run
    client.close()


@pytest.fixture(autouse=True)
def _fast_gates(settings):
    settings.RECREATE_HEALTH_SECONDS = 2.0
    settings.RECREATE_HEALTH_GRACE_SECONDS = 20.0
