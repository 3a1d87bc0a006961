"""The log detector: pattern packs over a container's log, with evidence in context.

Candidate lines come from one pass of an Aho-Corasick automaton over every pattern's needles
(ASCII lower-casing keeps byte offsets); the regular expressions then run on those lines only.
One line counts once (its most specific pattern); matches inside one stack trace are one
incident (the trace's most specific pattern), cited with the whole trace as its block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ahocorasick_rs import BytesAhoCorasick, Implementation

from ..findings import CONTEXT_LINES, Evidence, Finding
from .patterns import PATTERNS, Pattern

MAX_BLOCK_LINES = 60
MAX_OCCURRENCES = 3
_NEEDLES: tuple[bytes, ...] = tuple(sorted({n.encode() for p in PATTERNS for n in p.needles}))
_NEEDLE_PATTERNS: tuple[frozenset[Pattern], ...] = tuple(frozenset(p for p in PATTERNS if n.decode() in p.needles) for n in _NEEDLES)
# One automaton for all needles: a single pass over the log instead of one search per needle.
_MATCHER = BytesAhoCorasick(_NEEDLES, implementation=Implementation.DFA)  # the fastest here (bench/ai.py)

_CONTINUATION = re.compile(
    r"^(?:\s+at |\s+File \"|\s{2,}\S|\t|Caused by:|\s*\.\.\. \d+ (?:more|common frames)|goroutine \d+ \[|Require stack:|- /|"
    r"During handling of the above exception|The above exception was the direct cause|Node\.js v\d)"
)
_GO_HEADER = re.compile(r"^(?:panic: |fatal error: )")
_GO_LINE = re.compile(r"^(?:$|goroutine \d+ \[|[\w./*()\[\]{}-]+\(.*\)(?: \+0x[0-9a-f]+)?$|\[signal |exit status \d+|\s)")


def _line_patterns(line: bytes) -> set[Pattern]:
    """Patterns with a needle on `line` (lower-cased), overlapping needles included."""
    out: set[Pattern] = set()
    for needle, _, _ in _MATCHER.find_matches_as_indexes(line, overlapping=True):
        out |= _NEEDLE_PATTERNS[needle]
    return out


def candidate_spans(data: bytes) -> dict[int, tuple[int, set[Pattern]]]:
    """Line start offset -> (line end offset, patterns whose needle occurs on it), in order.

    Non-overlapping matches suffice to find every such line (no needle spans a newline);
    each line found is then read again for all of its needles."""
    low = data.lower()
    out: dict[int, tuple[int, set[Pattern]]] = {}
    end = -1
    for _, pos, _ in _MATCHER.find_matches_as_indexes(low):  # in order of position
        if pos < end:
            continue  # on the line just read
        start = low.rfind(b"\n", 0, pos) + 1
        end = low.find(b"\n", pos)
        end = len(low) if end == -1 else end
        out[start] = (end, _line_patterns(low[start:end]))
    return out


def candidate_lines(data: bytes) -> dict[int, set[Pattern]]:
    """0-based line index -> patterns whose needle occurs on it (cheap prefilter)."""
    out: dict[int, set[Pattern]] = {}
    line, cursor = 0, 0
    for start, (_, patterns) in candidate_spans(data).items():
        line += data.count(b"\n", cursor, start)
        cursor = start
        out[line] = patterns
    return out


def _best(text: str, patterns: Iterable[Pattern]) -> Pattern | None:
    """The most specific of `patterns` that really matches `text`."""
    matched = [p for p in patterns if p.compiled.search(text)]
    return max(matched, key=lambda p: (p.priority, p.rule_id)) if matched else None


def match_lines(lines: list[str], candidates: dict[int, set[Pattern]]) -> dict[int, Pattern]:
    """Line index -> the most specific pattern that really matches it."""
    out: dict[int, Pattern] = {}
    for index, patterns in candidates.items():
        if index >= len(lines):
            continue
        best = _best(lines[index], patterns)
        if best is not None:
            out[index] = best
    return out


def _walk_up(lines: list[str], index: int, pattern: re.Pattern) -> int:
    """The index of the first line above `index` that does not match `pattern`."""
    k = index - 1
    while k >= 0 and k > index - MAX_BLOCK_LINES and pattern.match(lines[k]):
        k -= 1
    return k


def _block_start(lines: list[str], index: int) -> int:
    if _GO_HEADER.match(lines[index]):
        return index
    k = _walk_up(lines, index, _GO_LINE)
    if k >= 0 and k < index and _GO_HEADER.match(lines[k]):
        return k  # a Go panic above, with only its own lines between
    k = _walk_up(lines, index, _CONTINUATION)
    if k < 0 or k == index - 1 and not _CONTINUATION.match(lines[index]):
        return index
    if _CONTINUATION.match(lines[index]) or lines[k].startswith("Traceback"):
        return k  # inside a trace, or the exception line that closes a Python trace
    return index


def trace_block(lines: list[str], index: int) -> tuple[int, int]:
    """(start, end) inclusive of the stack trace holding line `index` ((index, index) if none)."""
    start = _block_start(lines, index)
    is_go = bool(_GO_HEADER.match(lines[start]))
    end = index
    while end + 1 < len(lines) and end - start < MAX_BLOCK_LINES:
        nxt = lines[end + 1]
        if _CONTINUATION.match(nxt) or (is_go and _GO_LINE.match(nxt)):
            end += 1
        else:
            break
    if lines[start].startswith("Traceback") and end > start and end + 1 < len(lines) and _CONTINUATION.match(lines[end]):
        end += 1  # Python: the exception line closes the trace
    while is_go and end > start and not lines[end].strip():
        end -= 1
    return start, end


def _evidence(lines: list[str], index: int, block: tuple[int, int]) -> Evidence:
    start, end = block
    return Evidence(
        source="log", text=lines[index], line=index + 1,
        before=lines[max(0, index - CONTEXT_LINES):index], after=lines[index + 1:index + 1 + CONTEXT_LINES],
        block=lines[start:end + 1] if end > start else [],
    )


def _finding(pattern: Pattern, evidence: list[Evidence], count: int) -> Finding:
    seen = f" Seen {count} times in the log." if count > 1 else ""
    return Finding(
        rule_id=pattern.rule_id, severity=pattern.severity, category=pattern.category, title=pattern.title,
        explanation=pattern.explanation + seen, remediation=list(pattern.remediation), evidence=evidence, priority=pattern.priority,
    )


def detect(lines: list[str]) -> list[Finding]:
    """Findings over `lines` (the log, oldest first)."""
    data = "\n".join(lines).encode("utf-8", "replace")
    return findings_for(lines, match_lines(lines, candidate_lines(data)))


def findings_for(lines: list[str], matched: dict[int, Pattern]) -> list[Finding]:
    """Findings from the matched lines: traces grouped, occurrences counted, evidence lazily cut."""
    # One incident per stack trace: the most specific match inside a block stands for it.
    blocks: dict[int, tuple[int, int]] = {}
    best_in_block: dict[tuple[int, int], int] = {}
    for index in sorted(matched):
        block = trace_block(lines, index)
        blocks[index] = block
        if block[1] > block[0]:
            current = best_in_block.get(block)
            if current is None or matched[index].priority > matched[current].priority:
                best_in_block[block] = index
    by_rule: dict[str, list[int]] = {}
    for index in sorted(matched):
        block = blocks[index]
        if block[1] > block[0] and best_in_block[block] != index:
            continue
        by_rule.setdefault(matched[index].rule_id, []).append(index)
    findings = []
    for indexes in by_rule.values():
        pattern = matched[indexes[0]]
        evidence = [_evidence(lines, i, blocks[i]) for i in indexes[:MAX_OCCURRENCES]]
        findings.append(_finding(pattern, evidence, len(indexes)))
    return findings


def scan_stream(chunks: Iterable[bytes]) -> dict[str, int]:
    """Count pattern matches over a large log given as byte chunks (the benchmark's path):
    rule id -> matching lines. Chunks are split on line boundaries by the caller. Only the
    candidate lines are decoded."""
    counts: dict[str, int] = {}
    for chunk in chunks:
        for start, (end, patterns) in candidate_spans(chunk).items():
            best = _best(chunk[start:end].decode("utf-8", "replace"), patterns)
            if best is not None:
                counts[best.rule_id] = counts.get(best.rule_id, 0) + 1
    return counts
