"""Detectors over the Docker events the activity store kept for a container."""

from __future__ import annotations

from datetime import timedelta

from ..findings import Evidence, Finding

LOOP_DIES = 3
LOOP_WINDOW = timedelta(minutes=10)


def _ev(event) -> Evidence:
    return Evidence(source="event", text=f"{event.occurred_at:%Y-%m-%d %H:%M:%S} {event.kind}: {event.summary}")


def detect(events: list) -> list[Finding]:
    """`events`: activity Event rows of one container, oldest first."""
    findings: list[Finding] = []
    dies = [e for e in events if e.kind == "container.die"]
    window = [e for e in dies if dies and e.occurred_at >= dies[-1].occurred_at - LOOP_WINDOW]
    if len(window) >= LOOP_DIES:
        findings.append(Finding("events.restart_loop", "warning", "restart_loop", "Dies repeatedly",
                                f"The container died {len(window)} times within {int(LOOP_WINDOW.total_seconds() // 60)} minutes.",
                                ["Find the cause of the first failure in the log; restarts will not fix it."],
                                [_ev(e) for e in window[-3:]], priority=22))
    ooms = [e for e in events if e.kind == "container.oom"]
    if ooms:
        findings.append(Finding("events.oom", "critical", "oom", "Out-of-memory event",
                                "The engine reported an out-of-memory event for the container.",
                                ["Raise the memory limit (with the swap limit) or reduce memory use."], [_ev(ooms[-1])], priority=90))
    findings += _kills(events)
    return findings


def _kills(events: list) -> list[Finding]:
    """A kill followed by a die with 137 and no stop before: someone or something killed it."""
    for i, event in enumerate(events):
        if event.kind != "container.kill":
            continue
        later = events[i + 1:i + 4]
        died = next((e for e in later if e.kind == "container.die" and str((e.payload.get("data") or {}).get("exit_code")) == "137"), None)
        stopped = any(e.kind == "container.stop" for e in events[max(0, i - 2):i + 4])
        if died and not stopped:
            return [Finding("events.killed", "warning", "killed", "Killed, not stopped",
                            "The container received a kill and died with 137, without a stop: a person, a script or a supervisor killed it.",
                            ["Check the audit log and scripts that run `docker kill`."], [_ev(event), _ev(died)], priority=28)]
    return []
