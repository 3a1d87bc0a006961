"""Stack folders on a remote host, read through a short-lived helper container with the folder
bind-mounted read-only: against the second engine of tests/fixtures/engines.py (TLS, no
images: the helper image is provisioned to it on the way)."""

import os

import pytest

from apps.compose import discovery, files
from apps.compose.models import ComposeProject, StackFolder
from apps.hosts.models import DockerHost
from tests.helpers import unique

from .conftest import busybox_stack


def test_remote_listing_output_is_parsed_into_host_paths():
    out = b"app1\0compose.yaml\0My App\0docker-compose.yml\0__\0compose.yaml\0bad\0notes.txt\0"
    stacks = files.parse_remote_listing("/srv/stacks", out)
    assert [(s.name, s.working_dir, s.config_files) for s in stacks] == [
        ("myapp", "/srv/stacks/My App", ["/srv/stacks/My App/docker-compose.yml"]),
        ("app1", "/srv/stacks/app1", ["/srv/stacks/app1/compose.yaml"]),
    ]


@pytest.fixture
def second_host(db, tls_engine, two_teams) -> DockerHost:
    m = tls_engine.material
    return DockerHost.objects.create(
        team=two_teams["a"]["team"], name=unique("second"), url=tls_engine.url, tls_ca_cert=m.ca.pem,
        tls_client_cert=m.client_cert, tls_client_key=m.client_key, status=DockerHost.Status.UP,
    )


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_remote_stack_folders_are_read_through_a_helper_container(second_host, tmp_path):
    root = tmp_path / "stacks"
    (root / "app1").mkdir(parents=True)
    (root / "app1" / "compose.yaml").write_text(busybox_stack())
    (root / "Other App").mkdir()
    (root / "Other App" / "docker-compose.yml").write_text(busybox_stack())
    (root / "empty").mkdir()
    (root / "linked").symlink_to(root / "app1")  # symlinked folders are skipped, as on the local host
    (root / "stray.yaml").write_text("services: {}\n")
    StackFolder.objects.create(host=second_host, path=str(root))

    found = {p.name: p for p in discovery.from_folders(second_host)}

    assert set(found) == {"app1", "otherapp"}
    app1 = ComposeProject.objects.get(host=second_host, name="app1")
    assert app1.source == ComposeProject.Source.FOLDER
    assert app1.working_dir == str(root / "app1")
    assert app1.config_files == [str(root / "app1" / "compose.yaml")]
    assert not app1.files_reachable  # on another host: not readable from this server's disk
    assert found["otherapp"].config_files == [str(root / "Other App" / "docker-compose.yml")]


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_a_missing_remote_folder_is_a_clear_error_and_is_never_created(second_host, tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(files.RemoteFolderUnavailable, match="no-such-folder"):
        files.read_remote_folder(second_host, str(missing))
    assert not os.path.exists(missing)  # a read never makes the engine create the folder
    with pytest.raises(files.RemoteFolderUnavailable, match="absolute"):
        files.read_remote_folder(second_host, "relative/stacks")
