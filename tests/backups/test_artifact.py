"""The artifact format on its own: round trips, tampering, truncation, wrong keys."""

import gzip
import hashlib
import os

import pytest

from apps.backups import artifact

KEY = os.urandom(32)


def _write(data: bytes, key=None, chunk=300_000):
    out = bytearray()
    parts = [data[i:i + chunk] for i in range(0, len(data), chunk)] or [b""]
    digest = artifact.write(parts, out.extend, key=key, key_id="k1" if key else "")
    return bytes(out), digest


def _read(stored: bytes, key=KEY, chunk=70_000):
    digest = artifact.Digest()
    parts = (stored[i:i + chunk] for i in range(0, len(stored), chunk))
    content = b"".join(artifact.read(parts, key_for=lambda kid: key, digest=digest))
    return content, digest


@pytest.mark.parametrize("size", [0, 1, artifact.ENC_CHUNK, artifact.ENC_CHUNK * 3 + 17])
@pytest.mark.parametrize("encrypt", [False, True])
def test_round_trip_hashes_and_sizes(size, encrypt):
    data = os.urandom(size // 2) + b"a" * (size - size // 2)
    stored, digest = _write(data, KEY if encrypt else None)
    assert digest.content_size == size and digest.content_sha256 == hashlib.sha256(data).hexdigest()
    assert digest.stored_size == len(stored) and digest.stored_sha256 == hashlib.sha256(stored).hexdigest()
    content, read_digest = _read(stored)
    assert content == data
    assert artifact.compare(digest.as_dict(), read_digest).ok
    assert (artifact.key_id_of(stored[:64]) == "k1") is encrypt


def test_plain_artifacts_are_standard_gzip():
    data = b"hello " * 1000
    stored, _ = _write(data)
    assert gzip.decompress(stored) == data


@pytest.mark.parametrize("encrypt", [False, True])
def test_one_flipped_byte_is_caught(encrypt):
    data = os.urandom(500_000)
    stored, digest = _write(data, KEY if encrypt else None)
    damaged = bytearray(stored)
    damaged[len(damaged) // 2] ^= 0x01
    try:
        _content, got = _read(bytes(damaged))
    except artifact.ArtifactError:
        return  # the gzip CRC or the GCM tag caught it
    assert not artifact.compare(digest.as_dict(), got).ok


def test_truncated_encrypted_artifact_fails():
    stored, _ = _write(os.urandom(artifact.ENC_CHUNK * 2 + 5), KEY)
    with pytest.raises(artifact.ArtifactError, match="truncated"):
        _read(stored[: len(stored) - 2000])
    # dropping the final record exactly still fails: the flag is authenticated
    with pytest.raises(artifact.ArtifactError):
        _read(stored[: len(stored) - 10])


def test_wrong_key_and_missing_key():
    stored, _ = _write(b"secret data", KEY)
    with pytest.raises(artifact.ArtifactError, match="altered or the key is wrong"):
        _read(stored, key=os.urandom(32))
    with pytest.raises(artifact.ArtifactError, match="a key is needed"):
        list(artifact.read([stored]))


def test_truncated_gzip_fails():
    stored, _ = _write(os.urandom(200_000))
    with pytest.raises(artifact.ArtifactError):
        _read(stored[:-100])
