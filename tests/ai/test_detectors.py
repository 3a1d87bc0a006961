"""Detectors offline: every pattern on its real-world example, traces grouped, inspect rules."""

import pytest

from apps.ai.detectors import inspect as inspect_detector
from apps.ai.detectors import logs as logs_detector
from apps.ai.detectors.patterns import PATTERNS
from apps.ai.findings import number_evidence, rank
from apps.ai.providers.offline import write_analysis


def test_at_least_40_patterns_across_the_categories():
    assert len(PATTERNS) >= 40
    assert {"port_in_use", "connection", "dns", "permission_denied", "disk_full", "missing_module", "missing_file", "missing_env",
            "db_auth", "tls", "exec_format", "oom", "panic", "nginx_upstream", "db_startup"} <= {p.category for p in PATTERNS}


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.rule_id)
def test_pattern_finds_its_example_with_context(pattern):
    example = pattern.example.split("\n")[0]
    lines = [f"noise {i}" for i in range(8)] + [example] + [f"after {i}" for i in range(8)]
    findings = logs_detector.detect(lines)
    top = max(findings, key=lambda f: f.priority)
    assert top.category == pattern.category
    ev = top.evidence[0]
    assert ev.line == 9 and ev.text == example and len(ev.before) == 5 and len(ev.after) == 5


def test_a_java_trace_is_one_incident():
    lines = ["boot", 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space', "\tat a.B.c(B.java:1)", "\tat a.B.main(B.java:2)", "done"]
    findings = logs_detector.detect(lines)
    assert [f.rule_id for f in findings] == ["log.oom.java"]
    assert findings[0].evidence[0].block == lines[1:4]


def test_oom_killed_beats_the_exit_code_and_proposes_a_fix():
    found = rank(inspect_detector.detect({"State": {"OOMKilled": True, "ExitCode": 137}, "HostConfig": {"Memory": 32 * 2**20}}))
    assert found[0].rule_id == "inspect.oom_killed" and found[0].fix["params"]["memory"] == 256 * 2**20  # doubled, at least 256 MiB
    assert "inspect.exit.137" not in [f.rule_id for f in found]


@pytest.mark.parametrize("code,category", [(1, "crash"), (126, "exec_format"), (127, "missing_file"), (137, "killed"), (139, "panic"), (143, "stopped")])
def test_exit_codes(code, category):
    found = inspect_detector.detect({"State": {"ExitCode": code}, "HostConfig": {"Memory": 1}})
    assert found[0].category == category


def test_restarts_and_health():
    found = inspect_detector.detect({"State": {"Running": True, "Health": {"Status": "unhealthy", "FailingStreak": 4,
                                     "Log": [{"ExitCode": 1, "Output": "curl: (7) refused"}]}}, "RestartCount": 5, "HostConfig": {}})
    assert {"restart_loop", "healthcheck", "limits"} <= {f.category for f in found}


def test_offline_answer_cites_existing_evidence_only():
    findings = rank(logs_detector.detect(["x", "Error: listen EADDRINUSE: address already in use :::3000"]))
    ids = number_evidence(findings)
    text = write_analysis(findings)
    assert "[E1]" in text and "port" in text.lower() and set(ids) >= {"E1"}
