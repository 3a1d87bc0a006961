"""`manage.py upgrade`: snapshot the database, migrate, run the health checks, and restore the
snapshot when any step fails.

SQLite is copied with the online backup API (a consistent copy while other processes may
write; a plain file copy under WAL writers is not); PostgreSQL with `pg_dump -Fc`, restored
into an emptied `public` schema with `pg_restore`, so tables a half-applied migration created
go too.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.utils import timezone


class UpgradeFailed(Exception):
    pass


@dataclass
class Snapshot:
    vendor: str
    path: Path


@dataclass
class UpgradeReport:
    snapshot: Snapshot | None = None
    steps: list[str] = field(default_factory=list)
    restored: bool = False
    error: str = ""


def _db(alias: str = "default") -> dict:
    return connections[alias].settings_dict


def _pg_env(db: dict) -> dict:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PGPASSWORD": str(db.get("PASSWORD") or "")}
    return env


def _pg_args(db: dict) -> list[str]:
    args = ["-h", str(db.get("HOST") or "127.0.0.1"), "-U", str(db.get("USER") or "")]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    return args + ["-d", db["NAME"]]


def snapshot(folder: Path | None = None, alias: str = "default") -> Snapshot:
    folder = Path(folder or settings.UPGRADE_SNAPSHOT_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    conn = connections[alias]
    if conn.vendor == "sqlite":
        path = folder / f"dockerforge-{stamp}.sqlite3"
        src, dst = sqlite3.connect(_db(alias)["NAME"]), sqlite3.connect(path)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return Snapshot("sqlite", path)
    if conn.vendor == "postgresql":
        path = folder / f"dockerforge-{stamp}.pgdump"
        db = _db(alias)
        proc = subprocess.run(["pg_dump", "-Fc", "-f", str(path), *_pg_args(db)], env=_pg_env(db), capture_output=True, text=True, timeout=3600)
        if proc.returncode != 0:
            raise UpgradeFailed(f"pg_dump failed: {proc.stderr.strip()[-2000:]}")
        return Snapshot("postgresql", path)
    raise UpgradeFailed(f"No snapshot method for the {conn.vendor} database")


def restore(snap: Snapshot, alias: str = "default") -> None:
    connections.close_all()  # nothing of ours may hold the database while it is replaced
    db = _db(alias)
    if snap.vendor == "sqlite":
        src, dst = sqlite3.connect(snap.path), sqlite3.connect(db["NAME"])
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    conn = connections[alias]
    with conn.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE")
        cursor.execute("CREATE SCHEMA public")
    connections.close_all()
    proc = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", *_pg_args(db), str(snap.path)],
                          env=_pg_env(db), capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise UpgradeFailed(f"pg_restore failed: {proc.stderr.strip()[-2000:]}")


def health_checks() -> None:
    """Django's system checks and a database round trip (what /readyz asks of the database)."""
    call_command("check", verbosity=0)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def upgrade(*, log: Callable[[str], None] = print, snapshot_dir: Path | None = None, migrate_args: dict | None = None) -> UpgradeReport:
    report = UpgradeReport()
    report.snapshot = snapshot(snapshot_dir)
    log(f"Snapshot: {report.snapshot.path}")
    steps = (
        ("migrate", lambda: call_command("migrate", interactive=False, verbosity=0, **(migrate_args or {}))),
        ("health checks", health_checks),
    )
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - any failure restores the snapshot
            report.error = f"{name} failed: {exc.__class__.__name__}: {exc}"
            log(report.error)
            restore(report.snapshot)
            report.restored = True
            log(f"Restored the database from {report.snapshot.path}")
            raise UpgradeFailed(report.error) from exc
        report.steps.append(name)
        log(f"{name}: ok")
    return report
