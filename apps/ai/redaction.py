"""Redaction before anything leaves: secrets, connection strings, IPs and e-mails become
placeholders ([SECRET_1], [IP_2], ...). The same value always gets the same placeholder, so
the provider can reason about it; `restore()` puts the values back into the answer."""

from __future__ import annotations

import json
import re
from collections import Counter

MIN_SECRET_CHARS = 4
_RULES: tuple[tuple[str, re.Pattern, int], ...] = (
    # (kind, pattern, group holding the value: 0 = the whole match)
    ("KEY", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S), 0),
    ("CONN", re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@'\"]+:[^\s@'\"]+@[^\s'\"<>]+"), 0),
    ("TOKEN", re.compile(r"\b(?:sk-ant-[\w-]{10,}|sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[\w-]{10,}"
                         r"|AIza[0-9A-Za-z_-]{30,}|eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,})"), 0),
    ("TOKEN", re.compile(r"(?i)\b(?:Bearer|Basic|Token)\s+([A-Za-z0-9._~+/-]{12,}=*)"), 1),
    ("SECRET", re.compile(r"(?i)\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)s?[\w.-]*"
                          r"[\"']?\s*[=:]\s*[\"']?([^\s\"',;&]{3,})"), 1),
    ("EMAIL", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), 0),
    ("IP", re.compile(r"(?<![\d.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?![\d.])"), 0),
    ("IP", re.compile(r"(?i)(?<![\w:])(?=[0-9a-f:]*[a-f])(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}(?![\w:])|(?<![\w:])[0-9a-f]{0,4}::[0-9a-f:]{1,30}(?![\w:])"), 0),
)
_PLACEHOLDER = re.compile(r"\[(?:SECRET|KEY|CONN|TOKEN|EMAIL|IP)_\d+\]")
_KEEP = {"0.0.0.0", "::"}


class Redactor:
    def __init__(self, known_secrets: list[str] | tuple[str, ...] = ()):
        self.values: dict[str, str] = {}  # placeholder -> value
        self._by_value: dict[str, str] = {}
        self._counts: Counter[str] = Counter()  # kind -> placeholders given (no rescan per value)
        # Longest first, so a value containing another is replaced whole.
        self._known = sorted({s for s in known_secrets if s and len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)
        self._known_re = re.compile("|".join(re.escape(s) for s in self._known)) if self._known else None

    def placeholder(self, kind: str, value: str) -> str:
        if value in self._by_value:
            return self._by_value[value]
        token = f"[{kind}_{self._counts[kind] + 1}]"
        self._remember(token, value)
        return token

    def _remember(self, token: str, value: str) -> None:
        self.values[token] = value
        self._by_value[value] = token
        self._counts[token[1:token.rfind("_")]] += 1

    def redact(self, text: str) -> str:
        if not text:
            return text
        if self._known_re is not None:
            text = self._known_re.sub(lambda m: self.placeholder("SECRET", m.group(0)), text)
        for kind, pattern, group in _RULES:
            text = pattern.sub(lambda m, k=kind, g=group: self._replace(m, k, g), text)
        return text

    def _replace(self, match: re.Match, kind: str, group: int) -> str:
        value = match.group(group)
        if not value or _PLACEHOLDER.fullmatch(value) or value in _KEEP or _PLACEHOLDER.search(value):
            return match.group(0)
        token = self.placeholder(kind, value)
        if group == 0:
            return token
        start, end = match.span(group)
        base = match.start(0)
        whole = match.group(0)
        return whole[: start - base] + token + whole[end - base:]

    def restore(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self.values.get(m.group(0), m.group(0)), text or "")

    def to_json(self) -> str:
        return json.dumps(self.values)

    @classmethod
    def from_json(cls, raw: str, known_secrets: list[str] | tuple[str, ...] = ()) -> Redactor:
        """A redactor that keeps earlier placeholders (a conversation's numbering stays stable)."""
        redactor = cls(known_secrets)
        for token, value in (json.loads(raw) if raw else {}).items():
            redactor._remember(token, value)
        return redactor
