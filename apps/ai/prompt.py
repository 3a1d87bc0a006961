"""The prompt: findings with numbered evidence, the container's configuration and log tail,
all redacted. PROMPT_VERSION is part of the cache key: change it with the text."""

from __future__ import annotations

import hashlib
import json
import re

from .findings import Finding
from .redaction import Redactor

PROMPT_VERSION = "v1"
PROMPT_LOG_LINES = 150
SYSTEM = (
    "You are a senior site reliability engineer troubleshooting a Docker container. "
    "Deterministic detectors already found the findings listed, each with evidence ids like [E3]. "
    "Explain the most likely root cause first, then the fix as numbered steps. Cite evidence with its id in "
    "square brackets, e.g. [E1]; cite only ids that exist. Placeholders such as [SECRET_1] or [IP_2] stand for "
    "redacted values: keep them as they are. Be concise."
)
CITATION = re.compile(r"\[(E\d+)\]")


def render_findings(findings: list[Finding]) -> str:
    out = []
    for f in findings:
        out.append(f"- {f.title} (rule {f.rule_id}, {f.category}, {f.severity}): {f.explanation}")
        for ev in f.evidence:
            where = f"log line {ev.line}" if ev.line else ev.source
            out.append(f"  [{ev.id}] {where}: {ev.text}")
            if ev.block:
                out += [f"      | {b}" for b in ev.block[:20]]
    return "\n".join(out) or "(none)"


def build(ctx, findings: list[Finding], redactor: Redactor) -> str:
    state = ctx.inspect.get("State") or {}
    host_config = ctx.inspect.get("HostConfig") or {}
    env = "\n".join(f"  {name}={value}" for name, value in ctx.env) or "  (none)"
    text = (
        f"Container: {ctx.name}\nImage: {ctx.image}\n"
        f"State: {state.get('Status')} exit code {state.get('ExitCode')} OOMKilled {state.get('OOMKilled')} "
        f"restarts {ctx.inspect.get('RestartCount', 0)}\n"
        f"Memory limit: {host_config.get('Memory') or 'none'} swap: {host_config.get('MemorySwap') or 'none'}\n"
        f"Environment:\n{env}\n\nFindings:\n{render_findings(findings)}\n\n"
        f"Last {min(PROMPT_LOG_LINES, len(ctx.log_lines))} log lines:\n" + "\n".join(ctx.log_lines[-PROMPT_LOG_LINES:])
    )
    return redactor.redact(text)


def redact_findings(findings: list[Finding], redactor: Redactor) -> None:
    """Evidence is stored and shown redacted too (the log may hold secrets)."""
    for f in findings:
        for ev in f.evidence:
            ev.text = redactor.redact(ev.text)
            ev.before = [redactor.redact(x) for x in ev.before]
            ev.after = [redactor.redact(x) for x in ev.after]
            ev.block = [redactor.redact(x) for x in ev.block]


def input_hash(system: str, prompt: str) -> str:
    return hashlib.sha256(json.dumps([system, prompt]).encode()).hexdigest()


def cache_key(provider: str, model: str, digest: str) -> str:
    return hashlib.sha256(f"{provider}\0{model}\0{PROMPT_VERSION}\0{digest}".encode()).hexdigest()


def citations(text: str, evidence_ids) -> tuple[list[str], list[str]]:
    """(cited ids in order, ids cited that do not exist)."""
    cited = list(dict.fromkeys(CITATION.findall(text or "")))
    known = set(evidence_ids)
    return cited, [c for c in cited if c not in known]
