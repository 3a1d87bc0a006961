"""ansi.py against injection: only spans with classes from the fixed set, everything else escaped."""

import random
import re

import pytest

from apps.containers import ansi

SPAN_OPEN = re.compile(r'<span class="([^"]*)">')


def markup_free(html: str) -> str:
    """The HTML with our own span tags removed: what remains must hold no markup at all."""
    for classes in SPAN_OPEN.findall(html):
        assert set(classes.split()) <= ansi.CLASSES, classes
    return SPAN_OPEN.sub("", html).replace("</span>", "")


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "\x1b[31m<script>alert(1)</script>\x1b[0m",
        '\x1b[31"><script>alert(1)</script>m text',  # not an SGR: the CSI is dropped, the rest escaped
        "\x1b]0;<script>alert(1)</script>\x07title gone",  # OSC window title
        "\x1b]8;;javascript:alert(1)\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
        "\x1bP<script>\x1b\\",  # DCS
        "\x9b31m<b>8-bit CSI</b>",
        "\x1b[38;5;999m\x1b[38;2;999;-1;abc m<i>x</i>",
        "&lt;already&gt; &amp; 'quotes' \"double\"",
        "\x00\x07\x08nul bell\x7f\x85",
    ],
)
def test_hostile_text_leaves_no_markup(hostile):
    html = str(ansi.to_html(hostile))
    rest = markup_free(html)
    assert "<" not in rest and ">" not in rest and '"' not in rest and "'" not in rest
    assert "javascript:" not in html or "&" not in html  # only ever as inert text
    assert "\x1b" not in html and "\x00" not in html and "\x9b" not in html


def test_sgr_becomes_fixed_classes():
    html = str(ansi.to_html("plain \x1b[1;31mbold red\x1b[22;39m norm \x1b[44mblue bg\x1b[0m end"))
    assert html == (
        'plain <span class="ansi-fg-1 ansi-bold">bold red</span> norm '
        '<span class="ansi-bg-4">blue bg</span> end'
    )


def test_256_and_truecolour_map_to_the_16_classes():
    assert ansi.spans("\x1b[38;5;196mX")[0][0] == "ansi-fg-9"
    assert ansi.spans("\x1b[38;2;0;0;238mX")[0][0] == "ansi-fg-4"
    assert ansi.spans("\x1b[48;5;2mX")[0][0] == "ansi-bg-2"
    assert ansi.spans("\x1b[38;5mX") == [("", "X")]  # malformed: ignored, text kept


def test_other_escapes_are_dropped_and_strip_matches_visible_text():
    text = "\x1b[2J\x1b[H\x1b[?25lhello\x1b[K \x1b[32mworld\x1b[0m\r"
    assert ansi.strip(text) == "hello world"
    assert "".join(chunk for _, chunk in ansi.spans(text)) == "hello world"


def test_random_fuzz_never_leaks_markup():
    rng = random.Random(1234)
    alphabet = ["<", ">", "&", '"', "'", "\x1b", "[", "]", ";", "m", "3", "1", "8", "5", "2", "\x07", "\\", "a", " ", "\x9b", "/"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        rest = markup_free(str(ansi.to_html(text)))
        assert "<" not in rest and ">" not in rest and '"' not in rest, repr(text)
