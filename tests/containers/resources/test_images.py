"""Images against the real engine and a real local registry with htpasswd auth."""

import io
import tarfile

import pytest
from django.core.exceptions import ValidationError

from apps.activity.models import Operation
from apps.containers import images
from apps.containers.models import Image, RegistryCredential

from .conftest import BASE_IMAGE, remove_image_quietly

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def run(django_capture_on_commit_callbacks, fn, *args, **kwargs) -> Operation:
    """Start an operation and run its task in-process (eager Celery), as a worker would."""
    with django_capture_on_commit_callbacks(execute=True):
        op = fn(*args, **kwargs)
    op.refresh_from_db()
    return op


def test_pull_with_credentials_shows_progress_and_lands_in_the_mirror(local_host, team_a, registry, pushed_image, django_capture_on_commit_callbacks):
    RegistryCredential.objects.create(team=team_a["team"], registry=registry.address, username=registry.username, password=registry.password)
    remove_image_quietly(pushed_image)
    try:
        op = run(django_capture_on_commit_callbacks, images.request_pull, team_a["operator"], local_host, pushed_image)
        assert op.status == Operation.Status.SUCCEEDED, op.error
        assert op.progress == 1.0
        assert f"as {registry.username}" in op.log
        assert "Pull complete" in op.log or "Download complete" in op.log
        row = Image.objects.get(host=local_host, docker_id=op.result["image_id"])
        assert pushed_image in row.repo_tags and row.removed_at is None and row.team_id == local_host.team_id
    finally:
        remove_image_quietly(pushed_image)


def test_pull_without_credentials_fails_with_the_engines_message(local_host, team_a, registry, pushed_image, django_capture_on_commit_callbacks):
    op = run(django_capture_on_commit_callbacks, images.request_pull, team_a["operator"], local_host, pushed_image)
    assert op.status == Operation.Status.FAILED
    assert "no basic auth credentials" in op.error or "unauthorized" in op.error.lower()


def test_pull_of_a_missing_image_fails_with_the_engines_message(local_host, team_a, registry, django_capture_on_commit_callbacks):
    RegistryCredential.objects.create(team=team_a["team"], registry=registry.address, username=registry.username, password=registry.password)
    op = run(django_capture_on_commit_callbacks, images.request_pull, team_a["operator"], local_host, f"{registry.address}/demo/missing:9.9")
    assert op.status == Operation.Status.FAILED
    assert "manifest unknown" in op.error or "not found" in op.error


def test_build_from_dockerfile_text_tag_history_and_remove(local_host, team_a, test_labels, django_capture_on_commit_callbacks):
    tag = f"dockerforge-test/built-{test_labels['dockerforge.test'].lower()}:1"
    dockerfile = f"FROM {BASE_IMAGE}\nARG GREETING\nRUN echo \"$GREETING\" > /greeting\nLABEL dockerforge.test={test_labels['dockerforge.test']}\n"
    user = team_a["operator"]
    try:
        op = run(django_capture_on_commit_callbacks, images.request_build, user, local_host, tag=tag, dockerfile_text=dockerfile, buildargs={"GREETING": "hello"})
        assert op.status == Operation.Status.SUCCEEDED, op.error
        assert "Step 2/4" in op.log
        image = Image.objects.get(host=local_host, docker_id=op.result["image_id"])
        assert tag in image.repo_tags

        layers = images.image_history(image)
        assert any("GREETING" in layer["created_by"] for layer in layers)

        op = run(django_capture_on_commit_callbacks, images.request_tag, user, image, "dockerforge-test/retagged", "2")
        assert op.status == Operation.Status.SUCCEEDED, op.error
        image.refresh_from_db()
        assert "dockerforge-test/retagged:2" in image.repo_tags

        op = run(django_capture_on_commit_callbacks, images.request_remove, user, image, force=True)
        assert op.status == Operation.Status.SUCCEEDED, op.error
        image.refresh_from_db()
        assert image.removed_at is not None
    finally:
        remove_image_quietly(tag)
        remove_image_quietly("dockerforge-test/retagged:2")


def test_build_from_an_uploaded_context_reports_a_failing_step(local_host, team_a, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.BUILD_CONTEXT_DIR = str(tmp_path)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = f"FROM {BASE_IMAGE}\nRUN exit 7\n".encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (tmp_path / "ctx.tar.gz").write_bytes(buf.getvalue())
    op = run(django_capture_on_commit_callbacks, images.request_build, team_a["operator"], local_host, context_file="ctx.tar.gz")
    assert op.status == Operation.Status.FAILED
    assert "returned a non-zero code: 7" in op.error
    assert not (tmp_path / "ctx.tar.gz").exists(), "the uploaded context is removed after the build"


@pytest.mark.parametrize("reference", ["", "UPPER/case", "a b", "x:tag:other", "127.0.0.1:5000/../x", "reg.example.com/", "a/b:-bad"])
def test_bad_references_are_field_errors(reference):
    with pytest.raises(ValidationError):
        images.validate_reference(reference)


def test_pull_progress_parser_counts_layers():
    tracker = images.PullProgress()
    assert tracker.feed({"status": "Pulling from demo/app", "id": "1.0.0"}) == "1.0.0: Pulling from demo/app"
    assert tracker.feed({"status": "Pulling fs layer", "id": "a"}) == "a: Pulling fs layer"
    tracker.feed({"status": "Already exists", "id": "b"})
    assert tracker.feed({"status": "Downloading", "id": "a", "progressDetail": {"current": 50, "total": 100}}) == "a: Downloading"
    assert tracker.feed({"status": "Downloading", "id": "a", "progressDetail": {"current": 60, "total": 100}}) is None
    assert tracker.fraction == pytest.approx((0.7 * 0.6 + 1.0) / 2)
    tracker.feed({"status": "Pull complete", "id": "a"})
    assert tracker.fraction == 1.0
