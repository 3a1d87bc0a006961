"""AI detectors and the offline analysis.

1. Detector throughput on a generated 100 MB log (MB/s), against `grep -E` with the same
   pattern set (the needles of every pattern, case-insensitive) over the same file: ratio
   (best of 3 runs each, interleaved).
2. Offline-provider analysis latency (detectors + prompt + redaction + offline answer) on a
   2000-line log, median of 50 runs (no engine: the context is built in memory).

Run: /work/main/.venv/bin/python bench/ai.py [MB]
"""

import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _setup import django_setup  # noqa: E402

CHUNK = 8 * 1024 * 1024


def generate(path: Path, megabytes: int) -> None:
    from apps.ai.detectors.patterns import PATTERNS

    rng = random.Random(6)
    noise = [f"2026-11-30T10:00:{s:02d}Z INFO request id={s * 7919} path=/api/v1/items/{s} status=200 took={s}ms" for s in range(60)]
    errors = [p.example.split("\n")[0] for p in PATTERNS]
    target = megabytes * 1024 * 1024
    with path.open("w") as out:
        written = 0
        while written < target:
            block = "\n".join(rng.choice(errors) if rng.random() < 0.001 else rng.choice(noise) for _ in range(5000)) + "\n"
            out.write(block)
            written += len(block)


def chunks(path: Path):
    with path.open("rb") as f:
        rest = b""
        while True:
            data = f.read(CHUNK)
            if not data:
                if rest:
                    yield rest
                return
            data = rest + data
            cut = data.rfind(b"\n")
            rest = data[cut + 1:]
            yield data[:cut]


def bench_detectors(megabytes: int) -> None:
    from apps.ai.detectors.logs import scan_stream
    from apps.ai.detectors.patterns import PATTERNS

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.log"
        generate(path, megabytes)
        size_mb = path.stat().st_size / 1e6
        needles = sorted({n for p in PATTERNS for n in p.needles})
        pattern_file = Path(tmp) / "patterns.txt"
        pattern_file.write_text("\n".join(re.escape(n) for n in needles) + "\n")
        grep_cmd = ["grep", "-E", "-i", "-c", "-f", str(pattern_file), str(path)]
        # Best of 3 for both, interleaved: the machine is shared and its load moves.
        ours, theirs = [], []
        for _ in range(3):
            start = time.perf_counter()
            counts = scan_stream(chunks(path))
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            grep = subprocess.run(grep_cmd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
            theirs.append(time.perf_counter() - start)
        ours, theirs = min(ours), min(theirs)
        print(f"detectors: {size_mb:.0f} MB in {ours:.2f} s = {size_mb / ours:.1f} MB/s ({sum(counts.values())} findings lines, {len(counts)} rules)")
        print(f"grep -E -i (same {len(needles)} needles): {theirs:.2f} s = {size_mb / theirs:.1f} MB/s ({grep.stdout.strip()} lines)")
        print(f"ratio detectors/grep throughput: {theirs / ours:.2f}")


def bench_offline_latency(runs: int = 50) -> None:
    from apps.ai import prompt
    from apps.ai.context import ContainerContext
    from apps.ai.detectors import run_all
    from apps.ai.findings import number_evidence
    from apps.ai.providers import Request
    from apps.ai.providers.offline import OfflineProvider
    from apps.ai.redaction import Redactor

    log = [f"2026-11-30 INFO line {i} user=u{i}@example.test from 10.0.{i % 255}.{i % 200}" for i in range(1990)]
    log += ['Exception in thread "main" java.lang.OutOfMemoryError: Java heap space', "\tat a.B.c(B.java:1)"] * 5
    inspect = {"State": {"ExitCode": 1}, "HostConfig": {}, "Config": {"Env": ["API_TOKEN=abcdef123456", "MODE=prod"]}}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        ctx = ContainerContext(name="bench", image="x", inspect=inspect, log_lines=log)
        findings = run_all(inspect=inspect, log_lines=log)
        number_evidence(findings)
        redactor = Redactor(["abcdef123456"])
        text = prompt.build(ctx, findings, redactor)
        prompt.redact_findings(findings, redactor)
        OfflineProvider().complete(Request(system=prompt.SYSTEM, messages=[{"role": "user", "content": text}], model="", findings=findings))
        times.append(time.perf_counter() - start)
    print(f"offline analysis latency (2000-line log): median {statistics.median(times) * 1000:.1f} ms over {runs} runs")


if __name__ == "__main__":
    django_setup()
    bench_detectors(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
    bench_offline_latency()
