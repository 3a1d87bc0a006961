import subprocess

import pytest

from apps.hosts.models import DockerHost
from tests.helpers import RUN_ID, TEST_LABEL, unique

IMAGE = "dockerforge/busybox:test"


@pytest.fixture
def team(make_team):
    return make_team("Mirror")


@pytest.fixture
def local_host(docker_socket, team):
    """The machine's engine as a host row (unix:// is for superusers; the row is written directly)."""
    return DockerHost.objects.create(team=team, name="local", url=docker_socket, status=DockerHost.Status.UP)


def docker_cli(*args: str, socket: str = "unix:///var/run/docker.sock", check: bool = True) -> str:
    """The plain docker CLI, as a person on the host would use it."""
    out = subprocess.run(["docker", "-H", socket, *args], capture_output=True, text=True, timeout=60)
    if check and out.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {out.stderr}")
    return out.stdout.strip()


@pytest.fixture
def run_container(docker_socket):
    """docker run -d a labelled busybox (removed by the session teardown, by label)."""

    def run(*cmd: str, name: str | None = None, socket: str = docker_socket, extra=()) -> tuple[str, str]:
        name = name or unique("mirror")
        cid = docker_cli("run", "-d", "--label", f"{TEST_LABEL}={RUN_ID}", "--name", name, *extra, IMAGE,
                         *(cmd or ("sleep", "60")), socket=socket)
        return cid, name

    return run


# --- a second engine this module may kill and bring back -----------------------------------------

class RestartableEngine:
    """A dockerd of our own (own bridge, data root, socket) that tests stop and start again.

    The host row points at `url`, a symlink to the real socket: removing the link makes the
    engine unreachable to the portal while the test still reaches it through `socket`.
    """

    def __init__(self, root, bridge: str):
        self.root, self.bridge = root, bridge
        self.socket = str(root / "docker.sock")
        self.link = root / "engine.sock"
        self.proc = None

    @property
    def url(self) -> str:
        return f"unix://{self.link}"

    def start(self, *, linked: bool = True) -> None:
        import docker

        from tests.fixtures.engines import _wait_for

        log = self.root / "dockerd.log"
        if not linked:
            self.unlink()  # a dangling link would come alive with the new socket
        self.proc = subprocess.Popen(
            ["dockerd", "--host", f"unix://{self.socket}", "--data-root", str(self.root / "data"),
             "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "docker.pid"),
             "--bridge", self.bridge, "--iptables=false", "--ip-masq=false"],
            stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
        )

        def ping():
            client = docker.DockerClient(base_url=f"unix://{self.socket}", version="1.41", timeout=2)
            try:
                client.ping()
            finally:
                client.close()

        _wait_for(ping, "the restartable dockerd", 60, self.proc, log)
        if linked:
            self.relink()

    def unlink(self) -> None:
        self.link.unlink(missing_ok=True)

    def relink(self) -> None:
        self.unlink()
        self.link.symlink_to(self.socket)

    def stop(self) -> None:
        from tests.fixtures.engines import _stop_pid

        _stop_pid(self.root / "docker.pid")
        if self.proc is not None:
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def restartable_engine(docker_socket):
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from tests.fixtures.engines import _run, _umount_under, short_id
    from tests.helpers import require_service

    if os.geteuid() != 0 or not shutil.which("dockerd"):
        require_service("a second dockerd (needs root and dockerd)", False)
    sid = short_id("mirror-restart")
    bridge = f"dfmr{sid}"
    root = Path(tempfile.mkdtemp(prefix=f"dfmr-{sid}-", dir="/tmp"))
    root.chmod(0o700)
    _run("ip", "link", "add", "name", bridge, "type", "bridge")
    _run("ip", "link", "set", bridge, "up")
    engine = RestartableEngine(root, bridge)
    try:
        engine.start()
        # The busybox image, as `docker save | docker load` (the engine has no registry access).
        save = subprocess.Popen(["docker", "-H", docker_socket, "save", IMAGE], stdout=subprocess.PIPE)
        subprocess.run(["docker", "-H", f"unix://{engine.socket}", "load", "-q"], stdin=save.stdout, check=True,
                       capture_output=True, timeout=120)
        save.wait(timeout=60)
        yield engine
    finally:
        engine.stop()
        _umount_under(str(root))
        shutil.rmtree(root, ignore_errors=True)
        _run("ip", "link", "del", bridge, check=False)


# --- rows written directly (as a hostile or any remote engine could report them) ------------------

@pytest.fixture
def make_host(db):
    def make(team, name=None, status=DockerHost.Status.UP, url="tcp://127.0.0.1:1"):
        return DockerHost.objects.create(team=team, name=name or unique("h")[:90], url=url, status=status)

    return make


@pytest.fixture
def make_container(db):
    import uuid

    from apps.containers.models import Container

    def make(host, name=None, **fields):
        fields.setdefault("state", "running")
        return Container.objects.create(team_id=host.team_id, host=host, docker_id=uuid.uuid4().hex * 2,
                                        name=name or unique("c"), image=fields.pop("image", IMAGE), **fields)

    return make
