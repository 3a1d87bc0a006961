"""Volumes (create/remove/prune, browse and download through the helper container, helper
image provisioning to the second, image-less engine) and networks, on real engines."""

import pytest
from django.core.exceptions import ValidationError

from apps.activity.models import Operation
from apps.containers import helper_image, networks, volumes
from apps.containers.models import Container, Network, Volume
from apps.containers.sync import refresh_kind
from apps.containers.tasks_resources import host_client
from apps.engine.errors import PermanentEngineError
from tests.helpers import unique

from .conftest import docker_client, fill_volume
from .test_images import run

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

HOSTILE = "<img src=x onerror=alert(1)> a\nb.txt"  # names cannot hold "/"


def volume_row(host, name) -> Volume:
    return refresh_kind(host, "volumes", key=name)


def test_browse_lists_entries_and_downloads_a_file(local_host, team_a, labelled_volume):
    name = labelled_volume({"hello.txt": b"hi there", "sub/deep.bin": b"\x00\x01\x02", HOSTILE: b"x", ".hidden": b""})
    volume = volume_row(local_host, name)
    viewer = team_a["viewer"]

    listing = volumes.list_directory(viewer, volume, "")
    by_name = {e.name: e for e in listing.entries}
    assert set(by_name) == {"hello.txt", "sub", HOSTILE, ".hidden"}
    assert by_name["sub"].type == "dir" and listing.entries[0].name == "sub", "directories first"
    assert by_name["hello.txt"].size == 8 and by_name["hello.txt"].mode.startswith("-")
    assert by_name["hello.txt"].mtime.year == 2023

    assert [e.name for e in volumes.list_directory(viewer, volume, "sub/../sub").entries] == ["deep.bin"]
    assert volumes.read_file(viewer, volume, "/sub/deep.bin") == ("deep.bin", b"\x00\x01\x02")
    with pytest.raises(PermanentEngineError, match="No such directory"):
        volumes.list_directory(viewer, volume, "missing")


def test_download_is_size_capped_and_refuses_directories(local_host, team_a, labelled_volume, settings):
    settings.VOLUME_DOWNLOAD_MAX_BYTES = 100
    volume = volume_row(local_host, labelled_volume({"big.bin": b"x" * 500, "dir/a": b"a"}))
    with pytest.raises(PermanentEngineError, match="download limit"):
        volumes.read_file(team_a["viewer"], volume, "big.bin")
    with pytest.raises(PermanentEngineError, match="not a regular file"):
        volumes.read_file(team_a["viewer"], volume, "dir")


def test_path_traversal_stays_inside_the_volume():
    assert volumes.clean_path("../../etc") == "etc"
    assert volumes.clean_path("/a/./b/../c") == "a/c"
    assert volumes.clean_path(".hidden") == ".hidden"
    with pytest.raises(ValidationError):
        volumes.clean_path("a\x00b")


def test_listing_parser_keeps_names_with_newlines_and_marks_truncation():
    out = b"81a4 3 1700000000 -rw-r--r--\nline\nbreak\x0041ed 4096 1700000000 drwxr-xr-x\nd\x00+"
    listing = volumes.parse_listing(out, "x")
    assert [(e.name, e.type) for e in listing.entries] == [("d", "dir"), ("line\nbreak", "file")]
    assert listing.truncated and listing.parent == "" and listing.child(listing.entries[0]) == "x/d"


def test_browse_on_the_second_engine_provisions_the_helper_image(second_host, team_a, tls_engine, test_labels):
    """The second engine has no images: the helper image is streamed there from the local engine."""
    engine2 = docker_client(f"unix://{tls_engine.socket_path}")
    try:
        try:
            engine2.images.remove(helper_image.helper_image(), force=True)
        except Exception:  # noqa: BLE001 - not there: the point
            pass
        name = unique("vol2")
        engine2.volumes.create(name, labels=test_labels)
        volume = volume_row(second_host, name)
        assert volumes.list_directory(team_a["viewer"], volume, "").entries == []
        helper = engine2.images.get(helper_image.helper_image())
        assert helper.labels.get(helper_image.HELPER_LABEL) == "1"

        fill_volume(engine2, name, {"note.txt": b"from engine two"}, test_labels)
        assert [e.name for e in volumes.list_directory(team_a["viewer"], volume, "").entries] == ["note.txt"]
        assert volumes.read_file(team_a["viewer"], volume, "note.txt")[1] == b"from engine two"
        assert not engine2.containers.list(all=True, filters={"label": "org.dockerforge.helper"}), "helpers are removed"
    finally:
        for v in engine2.volumes.list(filters={"label": f"dockerforge.test={test_labels['dockerforge.test']}"}):
            v.remove(force=True)
        engine2.close()


def test_helper_image_from_an_archive(second_host, tls_engine, settings, tmp_path):
    from apps.engine.client import connect

    local = connect(settings.LOCAL_ENGINE_URL)
    try:
        helper_image.build_local_helper(local, helper_image.helper_image())
        archive = tmp_path / "helper.tar"
        archive.write_bytes(b"".join(local.api.get_image(helper_image.helper_image())))
    finally:
        local.close()
    settings.HELPER_IMAGE_ARCHIVE = str(archive)
    settings.LOCAL_ENGINE_URL = "unix:///nonexistent.sock"  # prove the archive, not the local engine, served it
    engine2 = docker_client(f"unix://{tls_engine.socket_path}")
    try:
        try:
            engine2.images.remove(helper_image.helper_image(), force=True)
        except Exception:  # noqa: BLE001
            pass
        with host_client(second_host) as client:
            assert helper_image.ensure_helper_image(client) == helper_image.helper_image()
        assert engine2.images.get(helper_image.helper_image())
    finally:
        engine2.close()


def test_volume_create_remove_and_prune_as_operations(local_host, team_a, test_labels, django_capture_on_commit_callbacks):
    user, name = team_a["operator"], unique("created")
    op = run(django_capture_on_commit_callbacks, volumes.request_create, user, local_host, name=name, labels=test_labels)
    assert op.status == Operation.Status.SUCCEEDED, op.error
    volume = Volume.objects.get(host=local_host, name=name)
    assert volume.labels == test_labels and volume.removed_at is None

    op = run(django_capture_on_commit_callbacks, volumes.request_remove, user, volume)
    assert op.status == Operation.Status.SUCCEEDED, op.error
    volume.refresh_from_db()
    assert volume.removed_at is not None

    with pytest.raises(ValidationError):
        volumes.request_create(user, local_host, name="bad name!")


def test_network_create_connect_disconnect_remove(local_host, team_a, test_labels, django_capture_on_commit_callbacks):
    user, name = team_a["operator"], unique("net")
    op = run(django_capture_on_commit_callbacks, networks.request_create, user, local_host, name=name, subnet="172.31.250.0/24",
             gateway="172.31.250.1", internal=True, attachable=True, labels=test_labels)
    assert op.status == Operation.Status.SUCCEEDED, op.error
    network = Network.objects.get(host=local_host, name=name, removed_at__isnull=True)
    assert network.internal and network.ipam["Config"][0]["Subnet"] == "172.31.250.0/24"

    engine = docker_client()
    container = engine.containers.run("dockerforge/busybox:test", ["sleep", "60"], detach=True, labels=test_labels, name=unique("c"))
    try:
        row = Container.objects.create(team=local_host.team, host=local_host, docker_id=container.id, name=container.name, state="running")
        op = run(django_capture_on_commit_callbacks, networks.request_connect, user, network, row, ["web", "api"])
        assert op.status == Operation.Status.SUCCEEDED, op.error
        network.refresh_from_db()
        assert container.id in network.attached
        container.reload()
        assert "web" in container.attrs["NetworkSettings"]["Networks"][name]["Aliases"]

        op = run(django_capture_on_commit_callbacks, networks.request_disconnect, user, network, container.name)
        assert op.status == Operation.Status.SUCCEEDED, op.error
        network.refresh_from_db()
        assert container.id not in network.attached
    finally:
        container.remove(force=True)
        engine.close()

    op = run(django_capture_on_commit_callbacks, networks.request_remove, user, network)
    assert op.status == Operation.Status.SUCCEEDED, op.error
    network.refresh_from_db()
    assert network.removed_at is not None


def test_builtin_networks_are_protected_with_a_clear_error(local_host, team_a):
    refresh_kind(local_host, "networks")
    bridge = Network.objects.get(host=local_host, name="bridge")
    with pytest.raises(networks.BuiltinNetworkError, match="built-in"):
        networks.request_remove(team_a["operator"], bridge)
    assert not Operation.objects.filter(kind="network.remove").exists()


@pytest.mark.parametrize(("fields", "field"), [
    ({"name": "bridge"}, "name"), ({"name": "x y"}, "name"), ({"name": "ok", "subnet": "10.0.0.1/8"}, "subnet"),
    ({"name": "ok", "subnet": "10.9.0.0/16", "gateway": "10.8.0.1"}, "gateway"), ({"name": "ok", "gateway": "10.0.0.1"}, "gateway"),
])
def test_network_input_errors_name_the_field(fields, field):
    with pytest.raises(ValidationError) as info:
        networks.validate_create(**fields)
    assert field in info.value.message_dict
