"""Detectors over a container's inspect document (State, RestartCount, HostConfig)."""

from __future__ import annotations

from ..findings import Evidence, Finding

# exit code -> (rule id, category, severity, priority, title, explanation, remediation)
EXIT_CODES = {
    1: ("inspect.exit.1", "crash", "error", 10, "Exited with code 1",
        "The main process ended with a generic error (code 1): its log says why.",
        ["Read the last log lines before the exit."]),
    126: ("inspect.exit.126", "exec_format", "error", 40, "Command cannot be executed (126)",
          "The command exists but could not be executed: not executable, wrong format or a permission problem.",
          ["Check the entrypoint's mode (`chmod +x`), its #! line and the image's platform."]),
    127: ("inspect.exit.127", "missing_file", "error", 40, "Command not found (127)",
          "The shell could not find the command it was asked to run.",
          ["Check the command and entrypoint names and that the program is installed in the image."]),
    137: ("inspect.exit.137", "killed", "error", 30, "Killed with SIGKILL (137)",
          "The process was killed with SIGKILL: `docker kill`, a stop that timed out, or an out-of-memory kill outside the container's own limit.",
          ["Check `docker events` for kill/stop around that time and the host's kernel log for the OOM killer.",
           "Make the process exit on SIGTERM so stops finish within the grace period."]),
    139: ("inspect.exit.139", "panic", "critical", 35, "Segmentation fault (139)",
          "The process was killed by SIGSEGV: it accessed invalid memory.",
          ["Look for native libraries built for another libc or CPU; run with core dumps to find the faulting code."]),
    143: ("inspect.exit.143", "stopped", "info", 12, "Stopped with SIGTERM (143)",
          "The process ended on SIGTERM, as on `docker stop`: usually intended.",
          ["Nothing to fix if the stop was intended; otherwise find who stopped it in the events."]),
}
RESTART_LOOP_COUNT = 3


def _ev(text: str) -> Evidence:
    return Evidence(source="inspect", text=text)


def detect(inspect: dict) -> list[Finding]:
    state = inspect.get("State") or {}
    host_config = inspect.get("HostConfig") or {}
    findings: list[Finding] = []
    oom = bool(state.get("OOMKilled"))
    exit_code = state.get("ExitCode")
    running = bool(state.get("Running"))
    if oom:
        limit = host_config.get("Memory") or 0
        findings.append(Finding(
            "inspect.oom_killed", "critical", "oom", "Killed for exceeding its memory limit",
            "The kernel's OOM killer ended the container's process (State.OOMKilled is true)"
            + (f"; its memory limit is {limit // (1024 * 1024)} MiB." if limit else "; it has no memory limit of its own, so the host ran out of memory."),
            ["Raise the memory limit (with the swap limit to match) or reduce the process's memory use.",
             "Check for a leak: memory rising steadily until the kill."],
            [_ev("State.OOMKilled = true"), _ev(f"State.ExitCode = {exit_code}")], priority=96,
            fix={"kind": "raise_memory", "params": {"memory": max(limit * 2, 256 * 1024 * 1024)}},
        ))
    elif not running and exit_code in EXIT_CODES:
        rule, category, severity, priority, title, explanation, remediation = EXIT_CODES[exit_code]
        findings.append(Finding(rule, severity, category, title, explanation, remediation,
                                [_ev(f"State.ExitCode = {exit_code}")], priority=priority))
    elif not running and exit_code not in (None, 0):
        findings.append(Finding("inspect.exit.other", "error", "crash", f"Exited with code {exit_code}",
                                "The main process ended with an error code.", ["Read the last log lines before the exit."],
                                [_ev(f"State.ExitCode = {exit_code}")], priority=8))
    if state.get("Error"):
        findings.append(Finding("inspect.start_error", "error", "start_failure", "The engine could not start the container",
                                "Docker reported an error starting the container.", ["Fix what the error names, then start again."],
                                [_ev(f"State.Error = {state['Error']}")], priority=85))
    findings += _restarts(inspect, state)
    findings += _health(state)
    findings += _limits(host_config)
    return findings


def _restarts(inspect: dict, state: dict) -> list[Finding]:
    count = inspect.get("RestartCount") or 0
    if count < RESTART_LOOP_COUNT and not state.get("Restarting"):
        return []
    return [Finding("inspect.restart_loop", "warning", "restart_loop", "Restart loop",
                    f"The container has been restarted {count} times by its restart policy: it keeps failing the same way.",
                    ["Find the cause of the first failure in the log; restarts will not fix it."],
                    [_ev(f"RestartCount = {count}"), _ev(f"State.Restarting = {bool(state.get('Restarting'))}")], priority=20)]


def _health(state: dict) -> list[Finding]:
    health = state.get("Health") or {}
    if health.get("Status") != "unhealthy":
        return []
    evidence = [_ev(f"State.Health.Status = unhealthy (failing streak {health.get('FailingStreak', 0)})")]
    for entry in (health.get("Log") or [])[-2:]:
        evidence.append(_ev(f"health check exit {entry.get('ExitCode')}: {(entry.get('Output') or '').strip()[:300]}"))
    return [Finding("inspect.unhealthy", "warning", "healthcheck", "Health check failing",
                    "The container runs but its health check fails.",
                    ["Run the health-check command by hand in the container (`docker exec`) and read its output."],
                    evidence, priority=34)]


def _limits(host_config: dict) -> list[Finding]:
    if host_config.get("Memory"):
        return []
    return [Finding("inspect.no_memory_limit", "info", "limits", "No memory limit",
                    "Without a memory limit one container can take the host's memory and get other processes killed.",
                    ["Set a memory limit (`--memory`, compose `mem_limit` / `deploy.resources.limits.memory`)."],
                    [_ev("HostConfig.Memory = 0")], priority=2)]
