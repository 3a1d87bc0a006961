"""The artifact format: gzip (level 6, as `tar -czf` uses) and optionally AES-256-GCM in
chunks, with SHA-256 computed while streaming. Pure: no Django, no engine.

Encrypted layout (after gzip):
    b"DFBKENC1" | key-id length (1 byte) | key id (ascii) | nonce prefix (8 bytes)
    then records: flag (1 byte: 0 more, 1 final) | ciphertext length (4 bytes, big-endian) | ciphertext+tag
Each record's nonce is the prefix plus a 4-byte counter; the flag is authenticated (AAD), so
a truncated or reordered artifact fails to decrypt instead of restoring half the data.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"DFBKENC1"
GZIP_LEVEL = 6
ENC_CHUNK = 1024 * 1024
READ_CHUNK = 1024 * 1024


class ArtifactError(Exception):
    """The artifact is damaged, truncated, or the key is wrong."""


@dataclass
class Digest:
    """Sizes and SHA-256 of the content (the tar) and of the stored bytes."""

    content_size: int = 0
    stored_size: int = 0
    content_sha256: str = ""
    stored_sha256: str = ""

    def as_dict(self) -> dict:
        return {"content_size": self.content_size, "stored_size": self.stored_size,
                "content_sha256": self.content_sha256, "stored_sha256": self.stored_sha256}


class _Encryptor:
    def __init__(self, key: bytes, key_id: str):
        self.aead = AESGCM(key)
        self.prefix = os.urandom(8)
        self.counter = 0
        self.buffer = bytearray()
        kid = key_id.encode("ascii")
        self.header = MAGIC + bytes([len(kid)]) + kid + self.prefix

    def _record(self, data: bytes, final: bool) -> bytes:
        flag = b"\x01" if final else b"\x00"
        nonce = self.prefix + struct.pack(">I", self.counter)
        self.counter += 1
        sealed = self.aead.encrypt(nonce, data, flag)
        return flag + struct.pack(">I", len(sealed)) + sealed

    def feed(self, data: bytes) -> bytes:
        self.buffer += data
        out = bytearray()
        # keep at least one byte back: the last record must be the one marked final
        while len(self.buffer) > ENC_CHUNK:
            out += self._record(bytes(self.buffer[:ENC_CHUNK]), final=False)
            del self.buffer[:ENC_CHUNK]
        return bytes(out)

    def close(self) -> bytes:
        data, self.buffer = bytes(self.buffer), bytearray()
        return self._record(data, final=True)


def write(source: Iterable[bytes], sink: Callable[[bytes], None], *, key: bytes | None = None, key_id: str = "",
          on_content: Callable[[int], None] | None = None) -> Digest:
    """Compress (and encrypt) `source` into `sink`, hashing both sides as it streams."""
    digest = Digest()
    content_hash, stored_hash = hashlib.sha256(), hashlib.sha256()
    gzip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    encryptor = _Encryptor(key, key_id) if key else None

    def emit(data: bytes) -> None:
        if encryptor:
            data = encryptor.feed(data)
        if data:
            stored_hash.update(data)
            digest.stored_size += len(data)
            sink(data)

    if encryptor:
        stored_hash.update(encryptor.header)
        digest.stored_size += len(encryptor.header)
        sink(encryptor.header)
    for chunk in source:
        if not chunk:
            continue
        content_hash.update(chunk)
        digest.content_size += len(chunk)
        emit(gzip.compress(chunk))
        if on_content:
            on_content(digest.content_size)
    emit(gzip.flush())
    if encryptor:
        tail = encryptor.close()
        stored_hash.update(tail)
        digest.stored_size += len(tail)
        sink(tail)
    digest.content_sha256, digest.stored_sha256 = content_hash.hexdigest(), stored_hash.hexdigest()
    return digest


class _Buffer:
    """Exact-size reads over a stream of chunks (record headers need them)."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks, self.data = chunks, bytearray()

    def read(self, n: int) -> bytes:
        while len(self.data) < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.data += chunk
        out = bytes(self.data[:n])
        del self.data[:n]
        return out

    def rest(self) -> Iterator[bytes]:
        if self.data:
            yield bytes(self.data)
            self.data = bytearray()
        yield from self.chunks


def key_id_of(first: bytes) -> str | None:
    """The key id an artifact was encrypted with (None: not encrypted), from its first bytes."""
    if not first.startswith(MAGIC) or len(first) < len(MAGIC) + 1:
        return None
    n = first[len(MAGIC)]
    return first[len(MAGIC) + 1: len(MAGIC) + 1 + n].decode("ascii", "replace")


def _decrypt(buf: _Buffer, key_for: Callable[[str], bytes]) -> Iterator[bytes]:
    n = buf.read(1)
    kid = buf.read(n[0] if n else 0).decode("ascii", "replace")
    prefix = buf.read(8)
    if len(prefix) != 8:
        raise ArtifactError("The artifact is truncated (encryption header).")
    aead = AESGCM(key_for(kid))
    counter = 0
    while True:
        head = buf.read(5)
        if len(head) < 5:
            raise ArtifactError("The artifact is truncated (its final encrypted record is missing).")
        flag, length = head[:1], struct.unpack(">I", head[1:])[0]
        sealed = buf.read(length)
        if len(sealed) != length:
            raise ArtifactError("The artifact is truncated (an encrypted record is cut short).")
        try:
            yield aead.decrypt(prefix + struct.pack(">I", counter), sealed, flag)
        except InvalidTag:
            raise ArtifactError("Decryption failed: the artifact was altered or the key is wrong.") from None
        counter += 1
        if flag == b"\x01":
            if buf.read(1):
                raise ArtifactError("The artifact has data after its final record.")
            return


def read(chunks: Iterable[bytes], *, key_for: Callable[[str], bytes] | None = None, digest: Digest | None = None) -> Iterator[bytes]:
    """The content (the tar) of an artifact, streamed. Hashes both sides into `digest` as it
    goes; a damaged gzip or encryption raises ArtifactError. Compare `digest` to the manifest
    after the last chunk: only then is the content known to be good."""
    digest = digest or Digest()
    stored_hash, content_hash = hashlib.sha256(), hashlib.sha256()

    def counted() -> Iterator[bytes]:
        for chunk in chunks:
            stored_hash.update(chunk)
            digest.stored_size += len(chunk)
            yield chunk

    buf = _Buffer(counted())
    first = buf.read(len(MAGIC))
    if first == MAGIC:
        if key_for is None:
            raise ArtifactError("The artifact is encrypted: a key is needed.")
        compressed = _decrypt(buf, key_for)
    else:
        buf.data[:0] = first
        compressed = buf.rest()
    gunzip = zlib.decompressobj(31)
    try:
        for chunk in compressed:
            out = gunzip.decompress(chunk)
            if out:
                content_hash.update(out)
                digest.content_size += len(out)
                yield out
        tail = gunzip.flush()
    except zlib.error as exc:
        raise ArtifactError(f"The artifact's compressed data is damaged: {exc}") from None
    if tail:
        content_hash.update(tail)
        digest.content_size += len(tail)
        yield tail
    if not gunzip.eof:
        raise ArtifactError("The artifact is truncated (the compressed stream does not end).")
    digest.content_sha256, digest.stored_sha256 = content_hash.hexdigest(), stored_hash.hexdigest()


@dataclass
class Check:
    ok: bool
    problems: list[str] = field(default_factory=list)


def compare(expected: dict, got: Digest) -> Check:
    """Every size and hash of the manifest against what was read."""
    problems = [
        f"{name}: expected {expected.get(name)!r}, read {value!r}"
        for name, value in got.as_dict().items() if expected.get(name) != value
    ]
    return Check(not problems, problems)
