"""Fixtures for images, volumes, networks and registry credentials: a real local registry with
htpasswd auth on a free 127.0.0.1 port, an image pushed to it, and host rows for the
machine's engine and the second (image-less) engine."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from apps.hosts.models import DockerHost
from tests.fixtures.engines import free_port, short_id
from tests.helpers import RUN_ID, TEST_LABEL, require_service, unique

BASE_IMAGE = "dockerforge/busybox:test"


@dataclass
class Registry:
    address: str  # 127.0.0.1:<port>
    username: str
    password: str
    root: Path


@pytest.fixture(scope="session")
def registry(docker_socket) -> Registry:
    """`docker-registry serve` with htpasswd (bcrypt) auth, storage in a temp folder."""
    import bcrypt

    binary = shutil.which("docker-registry")
    if not binary:
        require_service("docker-registry (apt: docker-registry)", False)
    root = Path(tempfile.mkdtemp(prefix=f"dfreg-{short_id('reg')}-", dir="/tmp"))
    username, password = "demo", f"pw-{RUN_ID}"
    (root / "htpasswd").write_text(f"{username}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}\n")
    port = free_port()
    (root / "config.yml").write_text(
        "version: 0.1\n"
        "log:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        f"auth:\n  htpasswd:\n    realm: dockerforge-test\n    path: {root / 'htpasswd'}\n"
    )
    log = (root / "registry.log").open("w")
    proc = subprocess.Popen([binary, "serve", str(root / "config.yml")], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except urllib.error.HTTPError as exc:
                if exc.code == 401:  # up, and asking for credentials
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"docker-registry did not start: {(root / 'registry.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield Registry(f"127.0.0.1:{port}", username, password, root)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def docker_client(url: str = "unix:///var/run/docker.sock"):
    import docker

    return docker.DockerClient(base_url=url, version="1.41", timeout=60)


@pytest.fixture(scope="session")
def pushed_image(registry) -> str:
    """`<registry>/demo/app:1.0.0`: a layer of its own on the busybox base, pushed with
    credentials and then removed locally, so a pull really downloads."""
    import io

    reference = f"{registry.address}/demo/app:1.0.0"
    client = docker_client()
    try:
        dockerfile = f"FROM {BASE_IMAGE}\nRUN head -c 400000 /dev/urandom > /blob-{RUN_ID}\nLABEL {TEST_LABEL}={RUN_ID}\n"
        client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=reference, rm=True)
        auth = {"username": registry.username, "password": registry.password}
        for message in client.api.push(f"{registry.address}/demo/app", tag="1.0.0", stream=True, decode=True, auth_config=auth):
            assert "error" not in message, message
        client.images.remove(reference, force=True)
    finally:
        client.close()
    return reference


def remove_image_quietly(reference: str, url: str = "unix:///var/run/docker.sock") -> None:
    client = docker_client(url)
    try:
        client.images.remove(reference, force=True)
    except Exception:  # noqa: BLE001 - already gone
        pass
    finally:
        client.close()


@pytest.fixture
def team_a(two_teams):
    return two_teams["a"]


@pytest.fixture
def local_host(db, docker_socket, team_a) -> DockerHost:
    """The machine's engine as a host of team A."""
    return DockerHost.objects.create(team=team_a["team"], name=unique("local"), url=docker_socket, status=DockerHost.Status.UP)


@pytest.fixture
def second_host(db, tls_engine, team_a) -> DockerHost:
    """The second engine (tests/fixtures/engines.py: TLS, no images) as a host of team A."""
    m = tls_engine.material
    return DockerHost.objects.create(
        team=team_a["team"], name=unique("second"), url=tls_engine.url, tls_ca_cert=m.ca.pem,
        tls_client_cert=m.client_cert, tls_client_key=m.client_key, status=DockerHost.Status.UP,
    )


@pytest.fixture
def labelled_volume(docker_socket, test_labels):
    """make(name=None, files={path: bytes}) -> a labelled volume on the machine's engine, filled."""
    client = docker_client(docker_socket)
    made = []

    def make(files: dict[str, bytes] | None = None, url: str = docker_socket):
        c = client if url == docker_socket else docker_client(url)
        name = unique("vol")
        c.volumes.create(name, labels=test_labels)
        made.append((c, name))
        if files:
            fill_volume(c, name, files, test_labels)
        return name

    yield make
    for c, name in made:
        try:
            c.volumes.get(name).remove(force=True)
        except Exception:  # noqa: BLE001
            pass
    client.close()


def fill_volume(client, volume: str, files: dict[str, bytes], labels: dict) -> None:
    """Write files into a volume through a busybox container and the archive API."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mtime = len(data), 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    image = BASE_IMAGE if _has_image(client, BASE_IMAGE) else None
    if image is None:  # the second engine has no images: use the helper the app provisions
        from django.conf import settings

        image = settings.HELPER_IMAGE
    container = client.containers.create(image, command=["true"], volumes={volume: {"bind": "/v", "mode": "rw"}}, labels=labels)
    try:
        container.put_archive("/v", buf.getvalue())
    finally:
        container.remove(force=True)


def _has_image(client, ref: str) -> bool:
    try:
        client.images.get(ref)
        return True
    except Exception:  # noqa: BLE001
        return False
