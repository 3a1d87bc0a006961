"""Retention rules (pure) and their application to a schedule's backups (database)."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.backups import retention
from apps.backups.models import Backup, BackupSchedule
from apps.hosts.models import DockerHost

T0 = datetime(2026, 3, 31, 3, 0, tzinfo=UTC)


def items(n, size=1000, verified=()):
    return [retention.Item(i, T0 - timedelta(days=i), size, i in verified) for i in range(n)]


def test_keep_last_n():
    plan = retention.plan(items(10), retention.Policy(keep_last=3))
    assert plan.keep == {0, 1, 2} and plan.delete == set(range(3, 10)) and not plan.flag


def test_daily_weekly_monthly():
    hourly = [retention.Item(i, T0 - timedelta(hours=6 * i), 1000, False) for i in range(200)]  # 50 days
    plan = retention.plan(hourly, retention.Policy(keep_daily=7, keep_weekly=4, keep_monthly=2))
    kept_days = {hourly[i].created_at.date() for i in plan.keep}
    assert len(plan.keep) <= 7 + 4 + 2 and len(kept_days) == len(plan.keep)
    assert {(hourly[i].created_at.year, hourly[i].created_at.month) for i in plan.keep} >= {(2026, 3), (2026, 2)}


def test_never_deletes_the_newest_verified_backup():
    # only an old one was verified; keep_last=1 would delete it
    plan = retention.plan(items(6, verified={4}), retention.Policy(keep_last=1))
    assert 4 in plan.keep and 0 in plan.keep and plan.delete == {1, 2, 3, 5}


def test_policy_of_zero_keeps_the_newest():
    assert retention.plan(items(3), retention.Policy()).keep == {0}


def test_suspiciously_small_newest_refuses_to_prune(settings):
    settings.BACKUP_SUSPICIOUS_RATIO = 0.5
    data = items(8, size=10_000)
    data[0] = retention.Item(0, T0, 120, False)  # a wiped volume
    plan = retention.plan(data, retention.Policy(keep_last=2))
    assert plan.flag and "pruning refused" in plan.flag and plan.delete == set()


@pytest.mark.django_db
def test_apply_retention_deletes_files_and_rows_but_not_the_newest_verified(make_team, tmp_path, settings):
    settings.BACKUP_DIR = str(tmp_path)
    team = make_team()
    host = DockerHost.objects.create(team=team, name="h", url="tcp://127.0.0.1:1")
    schedule = BackupSchedule.objects.create(team=team, name="s", host=host, target_name="v", keep_last=2)
    made = []
    for i in range(5):
        b = Backup.objects.create(team=team, kind="volume", host=host, target_name="v", status="completed", size=1000,
                                  folder=f"team-{team.pk}/b{i}", schedule=schedule, verify_ok=(i == 4))
        Backup.objects.filter(pk=b.pk).update(created_at=T0 - timedelta(days=i))
        (tmp_path / f"team-{team.pk}" / f"b{i}").mkdir(parents=True)
        (tmp_path / f"team-{team.pk}" / f"b{i}" / "manifest.json").write_text("{}")
        made.append(b)
    retention.apply_retention(schedule)
    left = set(Backup.objects.filter(schedule=schedule).values_list("pk", flat=True))
    assert left == {made[0].pk, made[1].pk, made[4].pk}, "last two plus the newest verified (the oldest)"
    assert not (tmp_path / f"team-{team.pk}" / "b2").exists() and (tmp_path / f"team-{team.pk}" / "b4").exists()


@pytest.mark.django_db
def test_apply_retention_flags_instead_of_pruning(make_team, tmp_path, settings):
    settings.BACKUP_DIR = str(tmp_path)
    team = make_team()
    host = DockerHost.objects.create(team=team, name="h", url="tcp://127.0.0.1:1")
    schedule = BackupSchedule.objects.create(team=team, name="s", host=host, target_name="v", keep_last=1)
    for i in range(4):
        b = Backup.objects.create(team=team, kind="volume", host=host, target_name="v", status="completed",
                                  size=50 if i == 0 else 100_000, folder=f"team-{team.pk}/b{i}", schedule=schedule)
        Backup.objects.filter(pk=b.pk).update(created_at=T0 - timedelta(days=i))
    retention.apply_retention(schedule)
    assert Backup.objects.filter(schedule=schedule).count() == 4
    newest = Backup.objects.filter(schedule=schedule).order_by("-created_at").first()
    assert "pruning refused" in newest.flagged
