"""The evaluation set, on the real engine: precision and recall of category + cited evidence."""

import re

import pytest

from apps.ai.models import Analysis
from apps.ai.redaction import Redactor
from apps.ai.services import request_analysis

from ..conftest import mirror
from .cases import CASES

pytestmark = [pytest.mark.docker, pytest.mark.django_db]
THRESHOLD = 0.9


def _verdict(analysis: Analysis, case) -> tuple[bool, str]:
    """The analysis' conclusion is its top finding: right category, and the answer cites an
    evidence item whose line holds the expected text."""
    if not analysis.findings:
        return False, "no finding"
    top = analysis.findings[0]
    cited = set(re.findall(r"\[(E\d+)\]", analysis.explanation.split("\n\n")[0]))
    restore = Redactor.from_json(analysis.redaction_map).restore  # evidence is stored redacted
    cited_texts = [restore(analysis.evidence[c]["text"]) for c in cited if c in analysis.evidence]
    ok_category = top["category"] == case.category
    ok_evidence = any(case.evidence in text for text in cited_texts)
    return ok_category and ok_evidence, f"{top['rule_id']} {top['category']} cites {cited_texts[:2]}"


def test_offline_analysis_precision_and_recall(replay, local_host, two_teams, django_capture_on_commit_callbacks):
    assert len(CASES) >= 30
    containers = {case.name: replay(case.log, case.exit_code, memory_mb=case.memory_mb) for case in CASES}
    replay.wait(list(containers.values()))
    user = two_teams["a"]["operator"]
    correct, predicted, misses = 0, 0, []
    for case in CASES:
        row = mirror(local_host, containers[case.name])
        with django_capture_on_commit_callbacks(execute=True):
            analysis = request_analysis(user, container=row)
        analysis.refresh_from_db()
        assert analysis.status == Analysis.Status.SUCCEEDED, analysis.error
        assert analysis.provider == "offline" and not analysis.invalid_citations
        if analysis.findings and analysis.findings[0]["severity"] != "info":
            predicted += 1
        ok, why = _verdict(analysis, case)
        correct += ok
        if not ok:
            misses.append(f"{case.name}: expected {case.category} / {case.evidence!r}, got {why}")
    precision = correct / predicted if predicted else 0.0
    recall = correct / len(CASES)
    print(f"\nAI evaluation: {len(CASES)} cases, precision {precision:.3f}, recall {recall:.3f}")
    for miss in misses:
        print("  miss:", miss)
    assert precision >= THRESHOLD and recall >= THRESHOLD, misses
