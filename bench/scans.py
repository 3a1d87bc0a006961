"""Scans benchmark, runnable alone: `python bench/scans.py`.

1. Scan time (engine `docker save` stream -> SBOM) of an image with 1,000 dpkg packages,
   against `docker save` of the same image to /dev/null (ratio; target < 1.5).
2. Matching throughput (packages per second) against an OSV database of 100,000 records.
"""

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_setup  # noqa: E402

PACKAGES = 1000
RECORDS = 100_000
TAG = "dockerforge/scan-bench:1000"


def dpkg_status(n: int) -> str:
    return "".join(f"Package: pkg{i}\nStatus: install ok installed\nVersion: 1.{i % 50}.{i}-1\nSource: src{i % 400}\n"
                   f"Description: generated package {i}\n with a second line\n\n" for i in range(n))


def build_image() -> None:
    with tempfile.TemporaryDirectory() as ctx:
        root = Path(ctx)
        (root / "status").write_text(dpkg_status(PACKAGES))
        (root / "os-release").write_text('ID=debian\nVERSION_ID="12"\n')
        (root / "Dockerfile").write_text("FROM dockerforge/busybox:test\nCOPY status /var/lib/dpkg/status\nCOPY os-release /etc/os-release\n"
                                         "LABEL dockerforge.bench=scans\n")
        subprocess.run(["docker", "build", "-q", "-t", TAG, str(root)], check=True, capture_output=True)


def best_of(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_scan() -> None:
    import docker

    from apps.engine.images_export import save_chunks
    from apps.scans.sbom import scan_stream

    build_image()
    client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="1.41", timeout=120)
    packages = len(scan_stream(save_chunks(client, TAG)).packages)
    assert packages == PACKAGES, packages
    scan_t = best_of(lambda: scan_stream(save_chunks(client, TAG)))
    save_t = best_of(lambda: subprocess.run(f"docker save {TAG} > /dev/null", shell=True, check=True))
    print(f"scan of {PACKAGES}-package image: {scan_t * 1000:.1f} ms; docker save > /dev/null: {save_t * 1000:.1f} ms; "
          f"ratio {scan_t / save_t:.2f} (target < 1.5)")
    client.images.remove(TAG, force=True)
    client.close()


def osv_records(n: int, rng: random.Random):
    for i in range(n):
        eco, name = rng.choice([("Debian:12", f"src{rng.randrange(4000)}"), ("PyPI", f"lib{rng.randrange(20000)}"),
                                ("npm", f"mod{rng.randrange(20000)}")])
        yield {"id": f"BENCH-{i}", "modified": "2026-11-01T00:00:00Z", "database_specific": {"severity": "high"},
               "affected": [{"package": {"ecosystem": eco, "name": name},
                             "ranges": [{"type": "ECOSYSTEM" if eco != "npm" else "SEMVER",
                                         "events": [{"introduced": "0"}, {"fixed": f"1.{rng.randrange(50)}.0" + ("-1" if eco.startswith("Debian") else "")}]}]}]}


def bench_matching() -> None:
    from apps.accounts.models import Team
    from apps.scans import services
    from apps.scans.matching import match_sbom
    from apps.scans.models import VulnerabilityDatabase
    from apps.scans.sbom import SBOM, OSInfo, Package

    rng = random.Random(7)
    team = Team.objects.create(name=f"bench-{time.time_ns()}", slug=f"bench-{time.time_ns()}")
    start = time.perf_counter()
    services.import_records(team, osv_records(RECORDS, rng), name="bench")
    print(f"import of {RECORDS:,} OSV records: {time.perf_counter() - start:.1f} s")
    packages = [Package("deb", f"pkg{i}", f"1.{i % 50}.{i}-1", f"src{i % 400}", f"1.{i % 50}.{i}-1") for i in range(PACKAGES)]
    packages += [Package("pypi", f"lib{i}", f"1.{i % 50}.0") for i in range(PACKAGES)]
    packages += [Package("npm", f"mod{i}", f"1.{i % 50}.0") for i in range(PACKAGES)]
    sbom = SBOM(os=OSInfo(id="debian", version_id="12"), packages=packages)
    dbs = list(VulnerabilityDatabase.objects.filter(team=team))
    matches = match_sbom(sbom, dbs)
    elapsed = best_of(lambda: match_sbom(sbom, dbs), runs=3)
    print(f"matching {len(packages):,} packages against {RECORDS:,} records: {elapsed * 1000:.0f} ms, "
          f"{len(packages) / elapsed:,.0f} packages/s, {len(matches):,} matches")


if __name__ == "__main__":
    django_setup()
    bench_scan()
    bench_matching()
