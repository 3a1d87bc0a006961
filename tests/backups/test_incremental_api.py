"""Incremental backups and storage targets through the API and the pages (no engine: the
Operation is only queued)."""

import pytest
from django.urls import reverse

from apps.activity.models import Operation
from apps.backups.models import Backup, BackupSchedule, StorageTarget
from apps.backups.schedules import run_schedule
from apps.hosts.models import DockerHost
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(two_teams):
    a, b = two_teams["a"], two_teams["b"]
    host = DockerHost.objects.create(team=a["team"], name="ha", url="tcp://127.0.0.1:1")
    target_a = StorageTarget.objects.create(team=a["team"], name="ta", kind="local", prefix="offsite")
    target_b = StorageTarget.objects.create(team=b["team"], name="tb", kind="local")
    full = Backup.objects.create(team=a["team"], kind="volume", host=host, target_name="v", status="completed", folder="f/full")
    inc = Backup.objects.create(team=a["team"], kind="volume", host=host, target_name="v", status="completed", folder="f/inc",
                                mode="incremental", parent=full, base=full)
    return {"a": a, "b": b, "host": host, "target_a": target_a, "target_b": target_b, "full": full, "inc": inc}


def test_backup_request_carries_incremental_and_storage_target(world):
    client = api_client_for(world["a"]["operator"])
    url = reverse("api:backup-list")
    body = {"host": world["host"].pk, "kind": "volume", "target": "v", "incremental": True, "storage_target": world["target_a"].pk}
    resp = client.post(url, body, format="json")
    assert resp.status_code == 202
    op = Operation.objects.get(pk=resp.json()["operation"])
    assert op.params["incremental"] is True and op.params["storage_target"] == world["target_a"].pk
    # another team's target is invisible; incremental is for volumes only
    assert client.post(url, {**body, "storage_target": world["target_b"].pk}, format="json").status_code == 404
    bad = client.post(url, {**body, "kind": "image"}, format="json")
    assert bad.status_code == 400 and "incremental" in bad.json()["error"]["details"]


def test_a_full_with_increments_cannot_be_deleted_first(world):
    admin = api_client_for(world["a"]["admin"])
    resp = admin.delete(reverse("api:backup-detail", args=[world["full"].pk]))
    assert resp.status_code == 400 and "Incremental backups build on" in resp.content.decode()
    assert admin.delete(reverse("api:backup-detail", args=[world["inc"].pk])).status_code == 204
    assert admin.delete(reverse("api:backup-detail", args=[world["full"].pk])).status_code == 204


def test_listing_filters_by_mode_and_labels_the_chain(world, client):
    viewer = api_client_for(world["a"]["viewer"])
    rows = viewer.get(reverse("api:backup-list"), {"mode": "incremental"}).json()["results"]
    assert [(r["id"], r["mode"], r["parent"], r["base"]) for r in rows] == [(world["inc"].pk, "incremental", world["full"].pk, world["full"].pk)]
    client.force_login(world["a"]["viewer"])
    page = client.get(reverse("backups:detail", args=[world["inc"].pk])).content.decode()
    assert "Incremental" in page and reverse("backups:detail", args=[world["full"].pk]) in page


def test_schedule_with_incremental_and_target(world):
    admin = api_client_for(world["a"]["admin"])
    body = {"name": "nightly", "kind": "volume", "host": world["host"].pk, "target_name": "v", "cron": "0 3 * * *",
            "incremental": True, "storage_target": world["target_b"].pk, "team": world["a"]["team"].pk}
    bad = admin.post(reverse("api:backupschedule-list"), body, format="json")
    assert bad.status_code == 400 and "storage_target" in bad.json()["error"]["details"]
    ok = admin.post(reverse("api:backupschedule-list"), {**body, "storage_target": world["target_a"].pk}, format="json")
    assert ok.status_code == 201, ok.content
    op = Operation.objects.get(pk=run_schedule(ok.json()["id"]))
    assert op.params["incremental"] is True and op.params["storage_target"] == world["target_a"].pk
    assert BackupSchedule.objects.get(pk=ok.json()["id"]).storage_target == world["target_a"]


def test_backup_form_offers_only_the_teams_targets(world, client):
    client.force_login(world["a"]["operator"])
    session = client.session
    session["current_team_id"] = world["a"]["team"].pk
    session.save()
    page = client.get(reverse("backups:list")).content.decode()
    assert 'name="incremental"' in page and ">ta<" in page and ">tb<" not in page


def test_a_local_target_is_a_folder_below_the_backup_directory(world, settings, tmp_path):
    from django.core.exceptions import ValidationError

    from apps.backups.storage import storage_of, validate_target

    settings.BACKUP_DIR = str(tmp_path)
    store = storage_of(Backup(storage="local", storage_target=world["target_a"]))
    assert store.root == tmp_path / "offsite"
    with pytest.raises(ValidationError) as exc:
        validate_target({"kind": "local", "prefix": "../etc"})
    assert "prefix" in exc.value.message_dict


def test_admin_never_shows_the_secret_and_keeps_it_when_left_empty(world, client, s3_plugin):
    admin = world["a"]["admin"]
    admin.is_staff = True
    admin.save()
    target = world["target_a"]
    target.kind, target.endpoint_url, target.bucket = "s3", "http://127.0.0.1:9", "df-bucket"
    target.access_key_id, target.secret_key = "AKIAADMIN", "admin-secret-value-123"
    target.save()
    client.force_login(admin)
    url = reverse("admin:backups_storagetarget_change", args=[target.pk])
    page = client.get(url)
    assert page.status_code == 200 and "admin-secret-value-123" not in page.content.decode()
    resp = client.post(url, {"team": world["a"]["team"].pk, "name": "ta", "kind": "s3", "endpoint_url": "http://127.0.0.1:9", "bucket": "df-bucket",
                             "region": "us-east-1", "access_key_id": "AKIAADMIN", "secret_key": "", "prefix": "p"})
    assert resp.status_code == 302, [str(e) for e in resp.context["errors"]] if resp.context else resp.status_code
    target.refresh_from_db()
    assert target.prefix == "p" and target.secret_key == "admin-secret-value-123"
    other = reverse("admin:backups_storagetarget_change", args=[world["target_b"].pk])
    assert client.get(other).status_code in (302, 404)
    # adding one: the team is a choice of the admin's own teams
    add = client.post(reverse("admin:backups_storagetarget_add"), {
        "team": world["a"]["team"].pk, "name": "new", "kind": "local", "region": "", "prefix": "sub"})
    assert add.status_code == 302 and StorageTarget.objects.get(name="new").team == world["a"]["team"]
    add = client.post(reverse("admin:backups_storagetarget_add"), {
        "team": world["b"]["team"].pk, "name": "theirs", "kind": "local", "prefix": ""})
    assert add.status_code == 200 and not StorageTarget.objects.filter(name="theirs").exists()
