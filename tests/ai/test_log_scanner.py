"""The one-pass log scanner finds exactly what the former needle-by-needle scanner found.

The reference below is the previous implementation (one substring search per needle over the
lower-cased log), kept here only to compare against on generated logs: mixed noise, every
pattern's example lines, case-mangled and embedded needles, overlapping needles, stack
traces, non-ASCII text and invalid UTF-8.
"""

from __future__ import annotations

import random

import pytest

from apps.ai.detectors import logs
from apps.ai.detectors.patterns import PATTERNS, Pattern

_NEEDLES: dict[bytes, tuple[Pattern, ...]] = {}
for _p in PATTERNS:
    for _n in _p.needles:
        _NEEDLES[_n.encode()] = _NEEDLES.get(_n.encode(), ()) + (_p,)


def reference_candidate_lines(data: bytes) -> dict[int, set[Pattern]]:
    low = data.lower()
    hits: list[tuple[int, tuple[Pattern, ...]]] = []
    for needle, patterns in _NEEDLES.items():
        pos = low.find(needle)
        while pos != -1:
            hits.append((pos, patterns))
            end = low.find(b"\n", pos)
            if end == -1:
                break
            pos = low.find(needle, end)
    hits.sort(key=lambda h: h[0])
    out: dict[int, set[Pattern]] = {}
    line, cursor = 0, 0
    for pos, patterns in hits:
        line += low.count(b"\n", cursor, pos)
        cursor = pos
        out.setdefault(line, set()).update(patterns)
    return out


def reference_scan_stream(chunks) -> dict[str, int]:
    counts: dict[str, int] = {}
    for chunk in chunks:
        lines = chunk.decode("utf-8", "replace").split("\n")
        for pattern in logs.match_lines(lines, reference_candidate_lines(chunk)).values():
            counts[pattern.rule_id] = counts.get(pattern.rule_id, 0) + 1
    return counts


_EXAMPLES = [line for p in PATTERNS for line in p.example.split("\n")]
_NOISE = ["2026-11-30T10:00:00Z INFO request id=1 path=/api status=200", "", "   ", "ok", "\tat a.B.c(B.java:1)",
          "Traceback (most recent call last):", '  File "app.py", line 3, in <module>', "goroutine 1 [running]:",
          "main.main()", "Caused by: x", "héllo wörld ✓ 日本", "ſtatus K ß İ"]


def _mangle(rng: random.Random, text: str) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def _random_line(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return rng.choice(_NOISE)
    if kind < 0.6:
        return rng.choice(_EXAMPLES)
    needle = rng.choice(list(_NEEDLES)).decode()
    if kind < 0.75:
        return _mangle(rng, needle)
    if kind < 0.9:  # several needles, possibly overlapping or run together
        return "".join(rng.choice(["", " ", "x", ": "]) + rng.choice(list(_NEEDLES)).decode() for _ in range(rng.randint(2, 4)))
    return f"{rng.choice(_NOISE)} {needle[: rng.randint(1, len(needle))]} {rng.choice(_EXAMPLES)}"


def _random_log(seed: int, size: int = 400) -> list[str]:
    rng = random.Random(seed)
    return [_random_line(rng) for _ in range(size)]


@pytest.mark.parametrize("seed", range(40))
def test_candidates_and_detections_equal_the_reference(seed):
    lines = _random_log(seed)
    data = "\n".join(lines).encode("utf-8", "replace")
    assert logs.candidate_lines(data) == reference_candidate_lines(data)
    findings = [f.as_dict() for f in logs.detect(lines)]
    expected = logs.findings_for(lines, logs.match_lines(lines, reference_candidate_lines(data)))
    assert findings == [f.as_dict() for f in expected]
    assert len(findings) >= 5  # the mix does produce findings


@pytest.mark.parametrize("seed", range(20))
def test_stream_counts_equal_the_reference_with_raw_bytes(seed):
    rng = random.Random(1000 + seed)
    lines = [line.encode() for line in _random_log(seed, 300)]
    for _ in range(20):  # invalid UTF-8 and stray bytes, also right next to needles
        i = rng.randrange(len(lines))
        cut = rng.randint(0, len(lines[i]))
        lines[i] = lines[i][:cut] + rng.choice([b"\xff", b"\xe2\x82", b"\xc3", b"\r", b"\x00"]) + lines[i][cut:]
    data = b"\n".join(lines)
    chunks = [b"\n".join(lines[:150]), b"\n".join(lines[150:])]
    assert logs.candidate_lines(data) == reference_candidate_lines(data)
    counts = logs.scan_stream(chunks)
    assert counts == reference_scan_stream(chunks)
    assert sum(counts.values()) > 0


def test_needles_are_what_the_scanner_assumes():
    # Lower-case ASCII (the log is lower-cased bytewise) and within one line.
    for needle in _NEEDLES:
        assert needle.isascii() and needle == needle.lower() and b"\n" not in needle and needle


def test_a_needle_at_the_edges_and_on_one_long_line():
    for data in [b"eaddrinuse", b"\neaddrinuse\n", b"x\n\nEADDRINUSE", b"ECONNREFUSED " * 5000 + b"\nfine\nENOSPC"]:
        assert logs.candidate_lines(data) == reference_candidate_lines(data)
    assert set(logs.candidate_lines(b"ok\nfine\n")) == set()
