"""The built-in offline provider: writes the analysis from the detector findings, with no
network. The default when a team has no key. It answers chat too (from the findings and the
conversation's memory) and writes extractive summaries, all deterministically."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..findings import Finding
from .base import Provider, Request, Result

MAX_OTHERS = 4
CHUNK_WORDS = 3  # the offline "stream" yields a few words at a time


class OfflineProvider(Provider):
    name = "offline"
    default_model = "detectors-v1"
    needs_key = False

    def complete(self, request: Request) -> Result:
        if request.purpose == "chat":
            from ..chat_offline import answer

            text = answer(request)
        elif request.purpose == "summary":
            from ..chat_offline import summarise

            text = summarise(request)
        else:
            text = write_analysis(request.findings)
        return Result(text=text, model=request.model or self.default_model)

    def stream(self, request: Request, on_text: Callable[[str], None]) -> Result:
        result = self.complete(request)
        for chunk in chunks(result.text):
            on_text(chunk)
        return result


def chunks(text: str) -> list[str]:
    """The text in pieces of a few words (whitespace kept), as a remote model streams it."""
    words = re.findall(r"\S+\s*|\s+", text)
    return ["".join(words[i:i + CHUNK_WORDS]) for i in range(0, len(words), CHUNK_WORDS)]


def _cite(finding: Finding) -> str:
    return " ".join(f"[{e.id}]" for e in finding.evidence[:2] if e.id)


def write_analysis(findings: list[Finding]) -> str:
    actionable = [f for f in findings if f.severity != "info"] or findings
    if not actionable:
        return "No known failure signature was found in the container's state, events or recent log."
    top, others = actionable[0], actionable[1:]
    lines = [f"**Most likely cause: {top.title}** ({top.category}, {top.severity}) {_cite(top)}", "", top.explanation, ""]
    lines.append("What to do:")
    lines += [f"{i}. {step}" for i, step in enumerate(top.remediation, 1)]
    if others:
        lines += ["", "Also seen:"]
        lines += [f"- {f.title} ({f.category}) {_cite(f)}" for f in others[:MAX_OTHERS]]
    notes = [f for f in findings if f.severity == "info" and f is not top]
    if notes:
        lines += ["", "Notes: " + "; ".join(f"{f.title} {_cite(f)}" for f in notes)]
    return "\n".join(lines)
