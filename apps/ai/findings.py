"""What detectors produce: findings with evidence. Plain dataclasses, JSON-able, no Django."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITY_RANK = {"critical": 4, "error": 3, "warning": 2, "info": 1}
CONTEXT_LINES = 5


@dataclass
class Evidence:
    """One cited fact. `line` is the log line number (1-based) or None for inspect/events."""

    source: str  # "log" | "inspect" | "event" | "metric"
    text: str
    line: int | None = None
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    block: list[str] = field(default_factory=list)  # a grouped stack trace, when there is one
    id: str = ""  # "E3", assigned when an analysis numbers its evidence

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Finding:
    rule_id: str
    severity: str
    category: str
    title: str
    explanation: str
    remediation: list[str]
    evidence: list[Evidence] = field(default_factory=list)
    # How specific the rule is for a root cause: ranks findings (a log line naming the cause
    # beats a bare exit code that only says "it failed").
    priority: int = 50
    fix: dict | None = None  # a proposed action (kind + params), when the rule knows one

    def as_dict(self) -> dict:
        data = asdict(self)
        data["evidence"] = [e.as_dict() for e in self.evidence]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        data = dict(data)
        data["evidence"] = [Evidence(**e) for e in data.get("evidence", [])]
        return cls(**data)

    def sort_key(self) -> tuple:
        first_line = min((e.line for e in self.evidence if e.line), default=10**12)
        return (-self.priority, -SEVERITY_RANK.get(self.severity, 0), first_line)


def rank(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)


def number_evidence(findings: list[Finding]) -> dict[str, Evidence]:
    """Give every evidence item an id E1, E2, ... in ranked order; returns id -> evidence."""
    out: dict[str, Evidence] = {}
    for finding in findings:
        for ev in finding.evidence:
            ev.id = f"E{len(out) + 1}"
            out[ev.id] = ev
    return out
