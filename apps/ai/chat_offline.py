"""The offline provider's chat: deterministic answers from the detector findings and the
conversation's memory (the recent turns and the summary of older ones), and extractive
summaries. No network, no model: rules a person can read."""

from __future__ import annotations

import re

from .findings import Finding
from .providers.base import Request

SUMMARY_ITEM_CHARS = 240
REFERS_BACK = re.compile(r"\b(first|earlier|before|previous(?:ly)?|you said|did you say|last answer|repeat|again|that error|that)\b", re.I)
ASKS_FIX = re.compile(r"\b(fix|solve|remed\w*|what (?:should|do|can) i|how (?:do|can|to))\b", re.I)
ASKS_WHY = re.compile(r"\b(why|cause|happen\w*|wrong|root)\b", re.I)
ASKS_EVIDENCE = re.compile(r"\b(log|logs|evidence|line|lines|proof|show)\b", re.I)
SUMMARY_USER, SUMMARY_ASSISTANT = "User asked: ", "Assistant answered: "


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            return line[:SUMMARY_ITEM_CHARS]
    return ""


def _earlier_answers(request: Request) -> list[str]:
    """The assistant's earlier answers, oldest first: those in the summary, then the turns."""
    answers = [line[len(SUMMARY_ASSISTANT):] for line in request.summary.splitlines() if line.startswith(SUMMARY_ASSISTANT)]
    answers += [m["content"] for m in request.messages[:-1] if m["role"] == "assistant"]
    return answers


def _actionable(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity != "info"] or list(findings)


def _cite(finding: Finding) -> str:
    return " ".join(f"[{e.id}]" for e in finding.evidence[:2] if e.id)


def _steps(finding: Finding) -> list[str]:
    return [f"{i}. {step}" for i, step in enumerate(finding.remediation, 1)]


def _evidence(finding: Finding) -> list[str]:
    return [f"- [{e.id}] {e.text}" if e.id else f"- {e.text}" for e in finding.evidence[:3]]


def _matching(findings: list[Finding], question: str) -> list[Finding]:
    words = {w for w in re.findall(r"[a-z]{4,}", question.lower())}
    return [f for f in findings if words & set(re.findall(r"[a-z]{4,}", f"{f.title} {f.category} {f.explanation}".lower()))]


def answer(request: Request) -> str:
    from .providers.offline import write_analysis

    question = request.messages[-1]["content"] if request.messages else ""
    findings = request.findings
    top = _actionable(findings)[0] if findings else None
    parts: list[str] = []
    if REFERS_BACK.search(question):
        earlier = _earlier_answers(request)
        if earlier:
            pick = earlier[0] if re.search(r"\bfirst\b", question, re.I) else earlier[-1]
            parts.append(f'Earlier I said: "{_first_line(pick)}"')
        else:
            parts.append("We have not discussed anything before this question in this conversation.")
    if top is None:
        parts.append("The detectors found no known failure signature in the container's state, events or recent log.")
        return "\n\n".join(parts)
    if ASKS_FIX.search(question):
        parts.append(f"To fix {top.title.lower()} {_cite(top)}:\n" + "\n".join(_steps(top)))
    elif ASKS_EVIDENCE.search(question) or (parts and re.search(r"\berror\b", question, re.I)):
        parts.append(f"The evidence for {top.title.lower()}:\n" + "\n".join(_evidence(top)))
    elif ASKS_WHY.search(question) or not parts:
        matched = _matching(_actionable(findings), question)
        parts.append(write_analysis(matched or findings))
    return "\n\n".join(parts)


def summarise(request: Request) -> str:
    """The previous summary plus one line per folded turn (the first line of each)."""
    lines = [line for line in request.summary.splitlines() if line.strip()]
    for message in request.messages[:-1]:  # the last message is the instruction to summarise
        prefix = SUMMARY_ASSISTANT if message["role"] == "assistant" else SUMMARY_USER
        text = " ".join(message["content"].split())[:SUMMARY_ITEM_CHARS]
        if text and not (text.startswith("(") and text.endswith(")")):  # the request's own fillers
            lines.append(prefix + text)
    return "\n".join(lines)
