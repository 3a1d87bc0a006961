"""ANSI colours in untrusted text (container logs), rendered safely.

SGR sequences (ESC [ ... m) become spans whose classes come from one fixed set (`CLASSES`);
every other escape or control sequence is dropped; all text is escaped. No markup from the
input ever reaches the page: the only tags produced are `<span class="...">` with class
names built here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# CSI (ESC [ params intermediates final), OSC (ESC ] ... BEL or ESC \), other two-byte
# escapes, and the 8-bit CSI/OSC forms.
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07]*\x07?"
    r"|\x1b"
)
_SGR = re.compile(r"\x1b\[([0-9;:]*)m")
# C0 controls but tab, DEL and C1 controls: never shown.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# The 16 terminal colours (xterm defaults), for mapping 256-colour and true-colour codes.
_PALETTE = [
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
]
CLASSES = frozenset(
    [f"ansi-fg-{i}" for i in range(16)]
    + [f"ansi-bg-{i}" for i in range(16)]
    + ["ansi-bold", "ansi-dim", "ansi-italic", "ansi-underline", "ansi-strike"]
)


@dataclass(frozen=True)
class Style:
    fg: int | None = None
    bg: int | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False

    def classes(self) -> str:
        names = []
        if self.fg is not None:
            names.append(f"ansi-fg-{self.fg}")
        if self.bg is not None:
            names.append(f"ansi-bg-{self.bg}")
        for flag in ("bold", "dim", "italic", "underline", "strike"):
            if getattr(self, flag):
                names.append(f"ansi-{flag}")
        return " ".join(names)


PLAIN = Style()


def nearest16(r: int, g: int, b: int) -> int:
    return min(range(16), key=lambda i: sum((a - c) ** 2 for a, c in zip(_PALETTE[i], (r, g, b), strict=True)))


def color256(n: int) -> int | None:
    if not 0 <= n <= 255:
        return None
    if n < 16:
        return n
    if n >= 232:  # grey ramp
        level = 8 + (n - 232) * 10
        return nearest16(level, level, level)
    n -= 16
    steps = (0, 95, 135, 175, 215, 255)
    return nearest16(steps[n // 36], steps[(n // 6) % 6], steps[n % 6])


def _extended(codes: list[int], i: int) -> tuple[int | None, int]:
    """A 38/48 colour starting at codes[i] (the 5 or 2); returns (colour, codes consumed)."""
    if i < len(codes) and codes[i] == 5 and i + 1 < len(codes):
        return color256(codes[i + 1]), 2
    if i < len(codes) and codes[i] == 2 and i + 3 < len(codes):
        r, g, b = (max(0, min(255, c)) for c in codes[i + 1 : i + 4])
        return nearest16(r, g, b), 4
    return None, len(codes) - i  # malformed: ignore the rest


_FLAGS_ON = {1: "bold", 2: "dim", 3: "italic", 4: "underline", 9: "strike"}
_FLAGS_OFF = {22: ("bold", "dim"), 23: ("italic",), 24: ("underline",), 29: ("strike",)}


def apply_sgr(style: Style, params: str) -> Style:
    parts = params.replace(":", ";").split(";")
    codes = [int(p) if p.isdigit() and len(p) <= 3 else 0 for p in parts] if params else [0]
    i = 0
    while i < len(codes):
        code = codes[i]
        i += 1
        if code == 0:
            style = PLAIN
        elif code in _FLAGS_ON:
            style = replace(style, **{_FLAGS_ON[code]: True})
        elif code in _FLAGS_OFF:
            style = replace(style, **dict.fromkeys(_FLAGS_OFF[code], False))
        elif 30 <= code <= 37:
            style = replace(style, fg=code - 30)
        elif 90 <= code <= 97:
            style = replace(style, fg=code - 90 + 8)
        elif 40 <= code <= 47:
            style = replace(style, bg=code - 40)
        elif 100 <= code <= 107:
            style = replace(style, bg=code - 100 + 8)
        elif code == 39:
            style = replace(style, fg=None)
        elif code == 49:
            style = replace(style, bg=None)
        elif code in (38, 48):
            colour, used = _extended(codes, i)
            i += used
            style = replace(style, **{"fg" if code == 38 else "bg": colour})
    return style


def spans(text: str, style: Style = PLAIN) -> list[tuple[str, str]]:
    """[(classes, text), ...] with escapes interpreted (SGR) or dropped (everything else)."""
    out: list[tuple[str, str]] = []
    pos = 0
    for match in _ESCAPE.finditer(text):
        _append(out, style, text[pos : match.start()])
        sgr = _SGR.fullmatch(match.group(0))
        if sgr:
            style = apply_sgr(style, sgr.group(1))
        pos = match.end()
    _append(out, style, text[pos:])
    return out


def _append(out: list, style: Style, chunk: str) -> None:
    chunk = _CONTROL.sub("", chunk)
    if not chunk:
        return
    classes = style.classes()
    if out and out[-1][0] == classes:
        out[-1] = (classes, out[-1][1] + chunk)
    else:
        out.append((classes, chunk))


def strip(text: str) -> str:
    """The visible text: escapes and control characters removed (what search matches)."""
    return _CONTROL.sub("", _ESCAPE.sub("", text))


def to_html(text: str) -> SafeString:
    parts = []
    for classes, chunk in spans(text):
        safe = escape(chunk)
        parts.append(f'<span class="{classes}">{safe}</span>' if classes else safe)
    return mark_safe("".join(parts))  # noqa: S308 - every chunk escaped; classes from CLASSES only
