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


def chain_items():
    """A full (6 days old) with increments on days 5..3, a full on day 2 with increments on days 1, 0."""
    parents = {6: None, 5: 6, 4: 5, 3: 4, 2: None, 1: 2, 0: 1}
    return [retention.Item(i, T0 - timedelta(days=i), 100_000 if parents[i] is None else 500, False, parents[i])
            for i in parents]


def test_never_deletes_a_backup_a_kept_incremental_builds_on():
    # keep_last=1 keeps increment 0: its parent 1 and its full 2 must stay too
    plan = retention.plan(chain_items(), retention.Policy(keep_last=1))
    assert plan.keep == {0, 1, 2} and plan.delete == {3, 4, 5, 6}
    # keeping increment 4 (a daily of an old day) keeps 5 and the old full 6, not the newer 3
    plan = retention.plan(chain_items(), retention.Policy(keep_last=1), pinned={4})
    assert plan.keep == {0, 1, 2, 4, 5, 6} and plan.delete == {3}


def test_increments_are_not_measured_against_fulls(settings):
    settings.BACKUP_SUSPICIOUS_RATIO = 0.5
    plan = retention.plan(chain_items(), retention.Policy(keep_last=3))
    assert not plan.flag, "a small increment is normal"
    wiped = [*chain_items(), retention.Item(9, T0 + timedelta(days=1), 10, False, None)]  # a tiny new full
    assert "pruning refused" in retention.plan(wiped, retention.Policy(keep_last=3)).flag


@pytest.mark.django_db
def test_apply_retention_keeps_chains_and_deletes_increments_before_their_full(make_team, tmp_path, settings):
    settings.BACKUP_DIR = str(tmp_path)
    team = make_team()
    host = DockerHost.objects.create(team=team, name="h", url="tcp://127.0.0.1:1")
    schedule = BackupSchedule.objects.create(team=team, name="s", host=host, target_name="v", keep_last=1, incremental=True)
    rows: dict[int, Backup] = {}
    for item in sorted(chain_items(), key=lambda i: i.created_at):
        rows[item.id] = Backup.objects.create(
            team=team, kind="volume", host=host, target_name="v", status="completed", size=item.size,
            folder=f"team-{team.pk}/b{item.id}", schedule=schedule, mode="full" if item.full else "incremental",
            parent=rows.get(item.parent), base=None)
        Backup.objects.filter(pk=rows[item.id].pk).update(created_at=item.created_at)
        (tmp_path / f"team-{team.pk}" / f"b{item.id}").mkdir(parents=True)
    # an increment made by hand on the old chain's increment 4 pins 4, 5 and the old full 6
    manual = Backup.objects.create(team=team, kind="volume", host=host, target_name="v", status="completed", size=1,
                                   folder=f"team-{team.pk}/manual", mode="incremental", parent=rows[4])
    retention.apply_retention(schedule)
    left = set(Backup.objects.filter(schedule=schedule).values_list("pk", flat=True))
    assert left == {rows[i].pk for i in (0, 1, 2, 4, 5, 6)}
    assert not (tmp_path / f"team-{team.pk}" / "b3").exists() and (tmp_path / f"team-{team.pk}" / "b6").exists()
    manual.delete()
    retention.apply_retention(schedule)  # now the old chain goes, increments before their full (PROTECT)
    assert set(Backup.objects.filter(schedule=schedule).values_list("pk", flat=True)) == {rows[i].pk for i in (0, 1, 2)}


@pytest.mark.django_db
def test_incremental_parent_choice_skips_broken_members_and_caps_the_chain(make_team, settings):
    from apps.backups import incremental

    class Log:
        lines: list[str] = []

        def log(self, line):
            self.lines.append(line)

    team = make_team()
    host = DockerHost.objects.create(team=team, name="h", url="tcp://127.0.0.1:1")
    index = {"artifacts": [{"role": "index", "file": "index.json.gz"}]}

    def make(mode="full", parent=None, **kw):
        fields = {"target_name": "v", "status": "completed", **kw}
        return Backup.objects.create(team=team, kind="volume", host=host, manifest=index, mode=mode, parent=parent,
                                     base=(parent.base or parent) if parent else None, **fields)

    def new():
        b = Backup.objects.create(team=team, kind="volume", host=host, target_name="v")
        incremental.prepare(b, True, Log())
        return b

    assert new().mode == "full", "nothing to build on"
    Backup.objects.all().delete()
    full = make()
    inc1 = make("incremental", full)
    inc2 = make("incremental", inc1)
    b = new()
    assert (b.mode, b.parent, b.base) == ("incremental", inc2, full)
    b.delete()
    Backup.objects.filter(pk=inc1.pk).update(verify_ok=False)  # inc2 builds on a broken member too
    b = new()
    assert b.parent == full
    b.delete()
    make(status="failed")  # a newer failed full is not a base
    make(target_name="other")  # nor another volume's
    assert new().parent == full
    settings.BACKUP_INCREMENTAL_MAX_CHAIN = 1
    Backup.objects.filter(pk=inc1.pk).update(verify_ok=True)
    assert new().mode == "full" and "making a full backup" in Log.lines[-1]
