"""Pre-action checks: a later app (scans' policies) can veto or warn before an action
(`run("container.create", team, spec)`); the caller shows the reasons. An admin override is
audited by the caller."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    level: str  # "block" | "warn"
    reason: str
    source: str = ""

    @property
    def blocks(self) -> bool:
        return self.level == "block"


_checks: dict[str, list[Callable]] = {}


def register(action: str, fn: Callable) -> None:
    """fn(team, spec) -> iterable of CheckResult."""
    bucket = _checks.setdefault(action, [])
    if fn not in bucket:
        bucket.append(fn)


def unregister(action: str, fn: Callable) -> None:
    if fn in _checks.get(action, []):
        _checks[action].remove(fn)


def run(action: str, team, spec) -> list[CheckResult]:
    results: list[CheckResult] = []
    for fn in _checks.get(action, []):
        results.extend(fn(team, spec) or [])
    return results


def blocking(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if r.blocks]
