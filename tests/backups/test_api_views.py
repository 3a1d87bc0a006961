"""API and pages: roles (403 before validation), 404 across teams, bad input, schedules in beat."""

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from apps.backups.models import Backup, BackupSchedule
from apps.hosts.models import DockerHost
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def world(two_teams):
    a, b = two_teams["a"], two_teams["b"]
    host_a = DockerHost.objects.create(team=a["team"], name="ha", url="tcp://127.0.0.1:1")
    host_b = DockerHost.objects.create(team=b["team"], name="hb", url="tcp://127.0.0.1:1")
    backup_a = Backup.objects.create(team=a["team"], kind="volume", host=host_a, target_name=HOSTILE, status="completed",
                                     folder="team-x/y", manifest={"artifacts": [{"file": HOSTILE, "role": "volume", "stored_size": 1, "stored_sha256": "ab"}]})
    backup_b = Backup.objects.create(team=b["team"], kind="volume", host=host_b, target_name="b-vol", status="completed", folder="team-y/z")
    return {"a": a, "b": b, "host_a": host_a, "host_b": host_b, "backup_a": backup_a, "backup_b": backup_b}


def test_backup_create_roles_and_validation(world):
    url = reverse("api:backup-list")
    assert api_client_for(world["a"]["viewer"]).post(url, {"host": world["host_a"].pk}, format="json").status_code == 403
    op = api_client_for(world["a"]["operator"])
    bad = op.post(url, {"host": world["host_a"].pk, "kind": "nope", "target": ""}, format="json")
    assert bad.status_code == 400 and {"kind", "target"} <= set(bad.json()["error"]["details"])
    assert op.post(url, {"host": world["host_b"].pk, "kind": "volume", "target": "v"}, format="json").status_code == 404
    ok = op.post(url, {"host": world["host_a"].pk, "kind": "volume", "target": "v"}, format="json")
    assert ok.status_code == 202 and "/operations/" in ok["Location"]


def test_verify_and_detail_are_team_scoped(world):
    op = api_client_for(world["a"]["operator"])
    assert op.post(reverse("api:backup-verify", args=[world["backup_b"].pk])).status_code == 404
    assert api_client_for(world["a"]["viewer"]).post(reverse("api:backup-verify", args=[world["backup_a"].pk])).status_code == 403
    assert op.post(reverse("api:backup-verify", args=[world["backup_a"].pk])).status_code == 202
    listed = [b["id"] for b in op.get(reverse("api:backup-list")).json()["results"]]
    assert listed == [world["backup_a"].pk]
    assert op.delete(reverse("api:backup-detail", args=[world["backup_a"].pk])).status_code == 403


def test_restore_overwrite_needs_admin(world):
    url = reverse("api:restore-list")
    body = {"backup": world["backup_a"].pk, "host": world["host_a"].pk, "target": "newvol", "overwrite": True}
    assert api_client_for(world["a"]["operator"]).post(url, body, format="json").status_code == 403
    assert api_client_for(world["a"]["admin"]).post(url, body, format="json").status_code == 202
    body.update(overwrite=False, target="bad name!")
    resp = api_client_for(world["a"]["operator"]).post(url, body, format="json")
    assert resp.status_code == 400 and "target" in resp.json()["error"]["details"]
    body.update(backup=world["backup_b"].pk, target="ok")
    assert api_client_for(world["a"]["operator"]).post(url, body, format="json").status_code == 404


def test_schedules_are_admin_only_and_land_in_beat(world):
    url = reverse("api:backupschedule-list")
    body = {"name": "nightly", "kind": "volume", "host": world["host_a"].pk, "target_name": "data", "cron": "30 2 * * *", "keep_last": 3}
    assert api_client_for(world["a"]["operator"]).post(url, body, format="json").status_code == 403
    admin = api_client_for(world["a"]["admin"])
    bad = admin.post(url, {**body, "cron": "61 * * * *"}, format="json")
    assert bad.status_code == 400 and "cron" in bad.json()["error"]["details"]
    assert admin.post(url, {**body, "host": world["host_b"].pk}, format="json").status_code == 400
    created = admin.post(url, body, format="json")
    assert created.status_code == 201, created.content
    schedule = BackupSchedule.objects.get(pk=created.json()["id"])
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.task == "backups.scheduled" and task.crontab.minute == "30" and task.crontab.hour == "2"
    admin.patch(reverse("api:backupschedule-detail", args=[schedule.pk]), {"enabled": False}, format="json")
    assert PeriodicTask.objects.get(pk=task.pk).enabled is False
    assert admin.delete(reverse("api:backupschedule-detail", args=[schedule.pk])).status_code == 204
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_pages_escape_untrusted_names_and_hide_other_teams(world, client):
    client.force_login(world["a"]["operator"])
    page = client.get(reverse("backups:list")).content.decode()
    assert HOSTILE not in page and "&lt;script&gt;" in page and "b-vol" not in page
    detail = client.get(reverse("backups:detail", args=[world["backup_a"].pk])).content.decode()
    assert HOSTILE not in detail and "Restore" in detail
    assert client.get(reverse("backups:detail", args=[world["backup_b"].pk])).status_code == 404
    assert client.post(reverse("backups:key_export")).status_code == 403
    resp = client.post(reverse("backups:list"), {"host": world["host_a"].pk, "kind": "volume", "target": ""})
    assert resp.status_code == 400


def test_key_export_for_admins(world, client):
    client.force_login(world["a"]["admin"])
    resp = client.post(reverse("backups:key_export"))
    assert resp.status_code == 200 and b'"format": "dockerforge-backup-key/1"' in resp.content
