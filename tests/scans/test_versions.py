"""Comparators: dpkg against `dpkg --compare-versions` on generated pairs; apk, PEP 440 and
SemVer against cases written from their documented rules."""

import random
import shutil
import subprocess

import pytest

from apps.scans.versions import InvalidVersion, apk_cmp, dpkg_cmp, pep440_cmp, semver_cmp

PIECES = ["0", "1", "2", "9", "10", "01", "a", "b", "z", "~", "~~", "+", ".", "~rc1", "+b1", ".0", "dfsg", "~beta", "ubuntu1"]


def _gen_upstream(rng) -> str:
    s = str(rng.choice([0, 1, 2, 10]))
    for _ in range(rng.randint(0, 4)):
        s += rng.choice(PIECES)
    return s


def _gen_version(rng) -> str:
    v = _gen_upstream(rng)
    if rng.random() < 0.5:
        v += "-" + rng.choice(["1", "2", "0", "1~deb12u1", "1+b2", "10", "1ubuntu0.1", "a"])
    if rng.random() < 0.2:
        v = f"{rng.choice([0, 1, 2])}:{v}"
    return v


def _dpkg_reference(pairs: list[tuple[str, str]]) -> list[int]:
    """One shell per batch: prints -1/0/1 per pair using dpkg --compare-versions."""
    script = 'while IFS=" " read -r a b; do if dpkg --compare-versions "$a" lt "$b"; then echo -1; ' \
             'elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; done'
    out = subprocess.run(["sh", "-c", script], input="\n".join(f"{a} {b}" for a, b in pairs) + "\n",
                         capture_output=True, text=True, check=True, timeout=300)
    return [int(x) for x in out.stdout.split()]


def test_dpkg_comparator_agrees_with_dpkg_on_10000_pairs():
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not installed")
    rng = random.Random(1234)
    pairs = []
    while len(pairs) < 10_000:
        a = _gen_version(rng)
        b = _gen_version(rng) if rng.random() < 0.8 else a  # some equal pairs
        pairs.append((a, b))
    # Run the reference in 4 parallel shells.
    from concurrent.futures import ThreadPoolExecutor

    chunks = [pairs[i::4] for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(_dpkg_reference, chunks))
    expected = {}
    for chunk, res in zip(chunks, results, strict=True):
        assert len(res) == len(chunk)
        expected.update({pair: r for pair, r in zip(chunk, res, strict=True)})
    mismatches = [(a, b, expected[(a, b)], dpkg_cmp(a, b)) for a, b in pairs if dpkg_cmp(a, b) != expected[(a, b)]]
    assert not mismatches, mismatches[:10]
    assert len({r for r in expected.values()}) == 3  # the generator covers <, = and >


@pytest.mark.parametrize("a,b,want", [
    ("1.0", "1.0", 0), ("1.0~rc1", "1.0", -1), ("1.0~~", "1.0~", -1), ("1:0.1", "2.0", 1), ("1.0-1", "1.0-2", -1),
    ("1.0a", "1.0+", -1), ("1.0", "1.0-0", 0), ("2.30-1", "2.4-1", 1), ("1.002", "1.2", 0),
])
def test_dpkg_rules(a, b, want):
    assert dpkg_cmp(a, b) == want


@pytest.mark.parametrize("a,b,want", [
    ("1.0", "1.0", 0), ("1.0", "1.0.1", -1), ("1.0_alpha1", "1.0_beta1", -1), ("1.0_beta", "1.0_pre", -1),
    ("1.0_pre1", "1.0_rc1", -1), ("1.0_rc1", "1.0", -1), ("1.0", "1.0_p1", -1), ("1.0_cvs", "1.0_svn", -1),
    ("1.0_git", "1.0_hg", -1), ("1.0_hg", "1.0_p", -1), ("1.0a", "1.0b", -1), ("1.0-r1", "1.0-r2", -1),
    ("1.0-r10", "1.0-r9", 1), ("1.10", "1.9", 1), ("2.0", "1.99", 1), ("1.2.4-r1", "1.2.4-r3", -1), ("1.0_rc2", "1.0_rc10", -1),
])
def test_apk_rules(a, b, want):
    assert apk_cmp(a, b) == want
    assert apk_cmp(b, a) == -want


def test_apk_rejects_garbage():
    with pytest.raises(InvalidVersion):
        apk_cmp("not a version", "1.0")


@pytest.mark.parametrize("a,b,want", [
    ("1.0", "1.0.0", 0), ("1.0a1", "1.0b1", -1), ("1.0rc1", "1.0", -1), ("1.0", "1.0.post1", -1), ("1.0.dev1", "1.0a1", -1),
    ("1!0.1", "2.0", 1), ("1.0+local", "1.0", 1), ("3.1.2", "3.1.3", -1),
])
def test_pep440_rules(a, b, want):
    assert pep440_cmp(a, b) == want


@pytest.mark.parametrize("a,b,want", [
    # The precedence example of SemVer 2.0.0, item 11.
    ("1.0.0-alpha", "1.0.0-alpha.1", -1), ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1), ("1.0.0-alpha.beta", "1.0.0-beta", -1),
    ("1.0.0-beta", "1.0.0-beta.2", -1), ("1.0.0-beta.2", "1.0.0-beta.11", -1), ("1.0.0-beta.11", "1.0.0-rc.1", -1),
    ("1.0.0-rc.1", "1.0.0", -1), ("1.0.0+build", "1.0.0", 0), ("2.0.0", "10.0.0", -1), ("v1.2.3", "1.2.3", 0),
])
def test_semver_rules(a, b, want):
    assert semver_cmp(a, b) == want
    assert semver_cmp(b, a) == -want


def test_semver_rejects_non_semver():
    with pytest.raises(InvalidVersion):
        semver_cmp("1.2", "1.2.0")
