"""Version order per ecosystem: dpkg (Debian/Ubuntu), apk (Alpine), PEP 440 (PyPI), SemVer (npm).

Each comparator is `cmp(a, b) -> -1 | 0 | 1` and raises InvalidVersion for input it cannot
order, so a range check can say "unknown" rather than guess.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable


class InvalidVersion(ValueError):
    pass


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


# --- dpkg: epoch:upstream-revision, compared by deb-version(7) ------------------------------

def _dpkg_order(c: str) -> int:
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _dpkg_order(a[i]) if i < len(a) else 0
            bc = _dpkg_order(b[j]) if j < len(b) else 0
            if ac != bc:
                return _sign(ac - bc)
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return _sign(first_diff)
    return 0


def _dpkg_split(v: str) -> tuple[int, str, str]:
    v = v.strip()
    if not v:
        raise InvalidVersion("empty dpkg version")
    epoch = 0
    if ":" in v:
        head, v = v.split(":", 1)
        if not head.isdigit():
            raise InvalidVersion(f"bad epoch in {v!r}")
        epoch = int(head)
    upstream, _, revision = v.rpartition("-") if "-" in v else (v, "", "")
    if not upstream:
        raise InvalidVersion(f"empty upstream version in {v!r}")
    return epoch, upstream, revision


def dpkg_cmp(a: str, b: str) -> int:
    ea, ua, ra = _dpkg_split(a)
    eb, ub, rb = _dpkg_split(b)
    if ea != eb:
        return _sign(ea - eb)
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


# --- apk: digits{.digits}[letter]{_suffix[N]}[~hash][-rN] -----------------------------------

_APK_SUFFIX = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "": 4, "cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}
_APK_RE = re.compile(r"^(\d+(?:\.\d+)*)([a-z]?)((?:_[a-z]+\d*)*)(?:~[0-9a-f]+)?(?:-r(\d+))?$")


def _apk_parse(v: str):
    m = _APK_RE.match(v.strip())
    if not m:
        raise InvalidVersion(f"not an apk version: {v!r}")
    numbers = m.group(1).split(".")
    suffixes = []
    for part in filter(None, m.group(3).split("_")):
        sm = re.match(r"([a-z]+)(\d*)$", part)
        if sm.group(1) not in _APK_SUFFIX:
            raise InvalidVersion(f"unknown apk suffix _{sm.group(1)} in {v!r}")
        suffixes.append((_APK_SUFFIX[sm.group(1)], int(sm.group(2) or 0)))
    return numbers, m.group(2), suffixes, int(m.group(4) or 0)


def _apk_number_cmp(a: str, b: str, first: bool) -> int:
    # Like apk-tools: after the first component, a leading zero makes it a decimal fraction.
    if not first and (a.startswith("0") or b.startswith("0")):
        return _sign((a > b) - (a < b))
    return _sign(int(a) - int(b))


def apk_cmp(a: str, b: str) -> int:
    na, la, sa, ra = _apk_parse(a)
    nb, lb, sb, rb = _apk_parse(b)
    for index, (x, y) in enumerate(zip(na, nb, strict=False)):
        if c := _apk_number_cmp(x, y, index == 0):
            return c
    if len(na) != len(nb):
        return 1 if len(na) > len(nb) else -1
    if la != lb:
        return 1 if la > lb else -1
    # A missing suffix ranks as the plain release (between _rc and _cvs).
    for index in range(max(len(sa), len(sb))):
        x = sa[index] if index < len(sa) else (_APK_SUFFIX[""], 0)
        y = sb[index] if index < len(sb) else (_APK_SUFFIX[""], 0)
        if x != y:
            return 1 if x > y else -1
    return _sign(ra - rb)


# --- PEP 440 --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=65536)
def _pep440(v: str):
    from packaging.version import InvalidVersion as PInvalid
    from packaging.version import Version

    try:
        return Version(v)
    except PInvalid:
        raise InvalidVersion(f"not a PEP 440 version: {v!r}") from None


def pep440_cmp(a: str, b: str) -> int:
    va, vb = _pep440(a), _pep440(b)
    return (va > vb) - (va < vb)


# --- SemVer 2.0.0 (npm) -----------------------------------------------------------------------

_SEMVER_RE = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)


def _semver(v: str):
    m = _SEMVER_RE.match(v.strip())
    if not m:
        raise InvalidVersion(f"not a semantic version: {v!r}")
    pre = m.group(4)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))), pre.split(".") if pre else []


def _pre_cmp(a: list[str], b: list[str]) -> int:
    if not a or not b:  # a release ranks above any of its pre-releases
        return (not a) - (not b)
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return _sign(int(x) - int(y))
        if x.isdigit() != y.isdigit():  # numeric identifiers rank below alphanumeric ones
            return -1 if x.isdigit() else 1
        return 1 if x > y else -1
    return _sign(len(a) - len(b))


def semver_cmp(a: str, b: str) -> int:
    (ca, pa), (cb, pb) = _semver(a), _semver(b)
    if ca != cb:
        return 1 if ca > cb else -1
    return _pre_cmp(pa, pb)


# --- by ecosystem ---------------------------------------------------------------------------

def comparator_for(ecosystem: str) -> Callable[[str, str], int]:
    base = ecosystem.split(":", 1)[0].lower()
    if base in ("debian", "ubuntu"):
        return dpkg_cmp
    if base == "alpine":
        return apk_cmp
    if base == "pypi":
        return pep440_cmp
    if base == "npm":
        return semver_cmp
    raise InvalidVersion(f"no version order for ecosystem {ecosystem!r}")
