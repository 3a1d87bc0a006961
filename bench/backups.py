"""Bench: volume backup and restore throughput against `tar -czf` / `tar -xzf` of the same data
read from (written to) the volume's directory on this machine.

Runnable alone: `python bench/backups.py` (needs root, dockerd on /var/run/docker.sock and the
image dockerforge/busybox:test). Makes a ~160 MB volume (random, text and log-like data, 2,000
small files), then:
- backup: the backup Operation's work (helper container + archive API + gzip-6 + SHA-256 +
  local storage) vs `tar -czf` of the volume's Mountpoint; ratio = tar time / our time;
- restore: the restore Operation's work (which verifies the whole artifact first, then
  streams it into a new volume) vs `tar -xzf` into an empty volume's Mountpoint; printed with
  and without the verify pass.
- incremental: after 60 files changed, an incremental backup's time and size against the full.
Targets: ratios > 0.8.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_setup  # noqa: E402

BASE = "dockerforge/busybox:test"
LABELS = {"dockerforge.bench": "backups"}
DATA = r"""set -e; cd /v
head -c 60000000 /dev/urandom > random.bin
seq 1 6000000 > numbers.txt
i=0; while [ $i -lt 2000 ]; do echo "small file $i" > s$i.txt; i=$((i+1)); done
yes "2026-11-30T08:00:00Z INFO request handled path=/api/v1/things status=200 ms=12" | head -c 60000000 > app.log
"""


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


CHANGE = r"""set -e; cd /v
i=0; while [ $i -lt 20 ]; do echo "changed $i" >> s$i.txt; echo "new $i" > n$i.txt; rm -f s$((i+1000)).txt; i=$((i+1)); done
"""


def bench_incremental(client, host, source: str, op_for, t_full: float, full) -> None:
    """An incremental backup after 60 of ~2,000 files changed (20 modified, 20 new, 20
    deleted): time and stored size against the full one."""
    from apps.activity.operations import Progress
    from apps.backups import services
    from apps.backups.models import Backup

    client.containers.run(BASE, ["sh", "-c", CHANGE], volumes={source: {"bind": "/v"}}, remove=True, labels=LABELS)
    op = op_for("backup.create", {"host": host.pk, "backup_kind": "volume", "target": source, "encrypt": False,
                                  "include_volumes": False, "commit": False, "schedule": None, "incremental": True})
    result = {}
    t_inc = timed(lambda: result.update(services.perform_backup(op, Progress(op))))
    inc = Backup.objects.get(pk=result["backup"])
    assert inc.mode == "incremental", inc.mode
    print(f"incremental (60 of ~2,000 files changed): {t_inc:.2f} s, {inc.size / 1e3:.0f} kB stored; "
          f"the full: {t_full:.2f} s, {full.size / 1e6:.0f} MB ({t_full / t_inc:.0f}x the time, "
          f"{full.size / max(inc.size, 1):.0f}x the size)")


def main() -> None:
    django_setup()
    import docker
    from django.conf import settings

    from apps.accounts.models import Team
    from apps.activity.models import Operation
    from apps.activity.operations import Progress
    from apps.backups import services
    from apps.backups.models import Backup, Restore
    from apps.hosts.models import DockerHost

    settings.BACKUP_DIR = tempfile.mkdtemp(prefix="df-bench-backups-")
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="1.41", timeout=600)
    suffix = uuid.uuid4().hex[:6]
    source, target, baseline_target = f"bench-bk-{suffix}", f"bench-bk-r-{suffix}", f"bench-bk-t-{suffix}"
    for name in (source, baseline_target):
        client.volumes.create(name, labels=LABELS)
    team = Team.objects.create(name=f"bench-{suffix}", slug=f"bench-{suffix}")
    host = DockerHost.objects.create(team=team, name="local", url="unix:///var/run/docker.sock", status="up")
    try:
        client.containers.run(BASE, ["sh", "-c", DATA], volumes={source: {"bind": "/v"}}, remove=True, labels=LABELS)
        mount = client.api.inspect_volume(source)["Mountpoint"]
        size = int(subprocess.check_output(["du", "-sb", mount]).split()[0])
        tgz = Path(tempfile.mkdtemp(prefix="df-bench-tar-")) / "v.tgz"
        t_tar = timed(lambda: subprocess.run(["tar", "-czf", str(tgz), "-C", mount, "."], check=True))

        def op_for(kind: str, params: dict) -> Operation:
            return Operation.objects.create(team=team, kind=kind, params=params, status="running")

        backup_op = op_for("backup.create", {"host": host.pk, "backup_kind": "volume", "target": source, "encrypt": False,
                                             "include_volumes": False, "commit": False, "schedule": None})
        result = {}
        t_ours = timed(lambda: result.update(services.perform_backup(backup_op, Progress(backup_op))))
        backup = Backup.objects.get(pk=result["backup"])
        print(f"data: {size / 1e6:.0f} MB in the volume; tar.gz {tgz.stat().st_size / 1e6:.0f} MB, ours {backup.size / 1e6:.0f} MB")
        print(f"backup:  ours {t_ours:.2f} s ({size / t_ours / 1e6:.0f} MB/s)  tar -czf {t_tar:.2f} s  ratio {t_tar / t_ours:.2f}")

        t_verify = timed(lambda: services.check(backup))
        restore = Restore.objects.create(team=team, backup=backup, host=host, target_name=target)
        restore_op = op_for("backup.restore", {"restore": restore.pk})
        t_restore = timed(lambda: services.perform_restore(restore_op, Progress(restore_op)))
        target_mount = client.api.inspect_volume(baseline_target)["Mountpoint"]
        t_untar = timed(lambda: subprocess.run(["tar", "-xzf", str(tgz), "-C", target_mount], check=True))
        print(f"restore: ours {t_restore:.2f} s (verify pass {t_verify:.2f} s of it)  tar -xzf {t_untar:.2f} s  "
              f"ratio {t_untar / t_restore:.2f}; without the verify pass {t_untar / max(t_restore - t_verify, 1e-6):.2f}")
        tgz.unlink()
        bench_incremental(client, host, source, op_for, t_ours, backup)
    finally:
        for name in (source, target, baseline_target):
            try:
                client.volumes.get(name).remove(force=True)
            except docker.errors.NotFound:
                pass
        client.close()


if __name__ == "__main__":
    main()
