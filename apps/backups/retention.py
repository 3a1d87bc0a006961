"""Retention: keep the last N, plus the newest per day/week/month for D/W/M periods.

Rules that win over any policy: the newest verified backup is never deleted; a backup that a
kept incremental backup builds on (its parent, and so on up to the full) is never deleted;
and when the newest full backup is suspiciously small against the fulls before it (a wiped
volume backs up as a tiny archive), nothing is pruned and the backup is flagged for a person
to look at. Increments are small by design, so they are not measured against fulls.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings


@dataclass(frozen=True)
class Item:
    id: int
    created_at: datetime
    size: int
    verified: bool
    parent: int | None = None  # the backup an incremental one builds on

    @property
    def full(self) -> bool:
        return self.parent is None


@dataclass(frozen=True)
class Policy:
    keep_last: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0


@dataclass(frozen=True)
class Plan:
    keep: set[int]
    delete: set[int]
    flag: str = ""  # non-empty: pruning refused, this is why


def _periods(items: list[Item], count: int, key) -> set[int]:
    kept, seen = set(), set()
    for item in items:  # newest first: the first of each period is its newest
        period = key(item.created_at)
        if period not in seen and len(seen) < count:
            seen.add(period)
            kept.add(item.id)
    return kept


def suspicious(items: list[Item], ratio: float | None = None, window: int = 5) -> str:
    """Why the newest backup looks wrong (empty: it looks fine)."""
    ratio = settings.BACKUP_SUSPICIOUS_RATIO if ratio is None else ratio
    if len(items) < 2:
        return ""
    newest, previous = items[0], [i.size for i in items[1: 1 + window]]
    typical = statistics.median(previous)
    if typical and newest.size < typical * ratio:
        return f"The newest backup is {newest.size} bytes, under {ratio:.0%} of the usual {int(typical)}: pruning refused."
    return ""


def with_dependencies(keep: set[int], parents: dict[int, int | None]) -> set[int]:
    """`keep` plus every backup a kept one builds on, up to its full."""
    closed = set(keep)
    for item_id in keep:
        parent = parents.get(item_id)
        while parent is not None and parent not in closed:
            closed.add(parent)
            parent = parents.get(parent)
    return closed


def plan(items: list[Item], policy: Policy, pinned: set[int] = frozenset()) -> Plan:
    """What to keep and delete. `pinned`: ids kept whatever the policy (backups outside this
    set of items depend on them)."""
    items = sorted(items, key=lambda i: i.created_at, reverse=True)
    flag = suspicious([i for i in items if i.full]) if items and items[0].full else ""
    if flag:
        return Plan({i.id for i in items}, set(), flag)
    keep = {i.id for i in items[: policy.keep_last]}
    keep |= _periods(items, policy.keep_daily, lambda t: t.date())
    keep |= _periods(items, policy.keep_weekly, lambda t: t.isocalendar()[:2])
    keep |= _periods(items, policy.keep_monthly, lambda t: (t.year, t.month))
    newest_verified = next((i for i in items if i.verified), None)
    if newest_verified:
        keep.add(newest_verified.id)
    if items:
        keep.add(items[0].id)  # the backup just made is never pruned by its own run
    keep = with_dependencies(keep | set(pinned), {i.id: i.parent for i in items})
    return Plan(keep, {i.id for i in items} - keep)


def apply_retention(schedule, progress=None) -> Plan:
    """Prune the schedule's completed backups by its policy (deletes files, then rows)."""
    from .models import Backup
    from .storage import storage_of

    backups = list(Backup.objects.filter(schedule=schedule, status=Backup.Status.COMPLETED))
    items = [Item(b.pk, b.created_at, b.size, bool(b.verify_ok), b.parent_id) for b in backups]
    policy = Policy(schedule.keep_last, schedule.keep_daily, schedule.keep_weekly, schedule.keep_monthly)
    pinned: set[int] = set()
    while True:
        result = plan(items, policy, pinned)
        # increments made outside this schedule (by hand, by another schedule) may build on its backups
        needed = set(Backup.objects.filter(parent_id__in=result.delete).exclude(pk__in=result.delete)
                     .values_list("parent_id", flat=True))
        if not needed:
            break
        pinned |= needed
    if result.flag:
        newest = max(backups, key=lambda b: b.created_at)
        Backup.objects.filter(pk=newest.pk).update(flagged=result.flag)
        if progress:
            progress.log(result.flag)
        from apps.core import events

        events.publish("backup.flagged", schedule.team_id, severity="warning", host=newest.host,
                       target=events.ref("backup", newest, str(newest)), summary=result.flag)
        return result
    # newest first: an increment goes before the backup it builds on (the rows PROTECT that order)
    for backup in sorted((b for b in backups if b.pk in result.delete), key=lambda b: b.created_at, reverse=True):
        storage_of(backup).delete_prefix(backup.folder)
        backup.delete()
        if progress:
            progress.log(f"Retention removed {backup}")
    return result
