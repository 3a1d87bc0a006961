"""Where artifacts live. A small interface so an S3-compatible target can plug in later:
names are relative ("<team>/<backup uuid>/<file>"), writes are streamed and atomic.

Local directory target: settings.BACKUP_DIR (DOCKERFORGE_BACKUP_DIR, default var/backups).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from django.conf import settings

READ_CHUNK = 1024 * 1024


class Storage:
    name = "base"

    def writer(self, name: str) -> contextlib.AbstractContextManager[Callable[[bytes], None]]:
        raise NotImplementedError

    def read(self, name: str) -> Iterator[bytes]:
        raise NotImplementedError

    def write_bytes(self, name: str, data: bytes) -> None:
        with self.writer(name) as sink:
            sink(data)

    def read_bytes(self, name: str) -> bytes:
        return b"".join(self.read(name))

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def delete_prefix(self, prefix: str) -> None:
        raise NotImplementedError

    def locate(self, name: str) -> str:
        """Where a person finds the file (shown on the page and in the manifest)."""
        raise NotImplementedError


class LocalStorage(Storage):
    name = "local"

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root or settings.BACKUP_DIR).resolve()

    def _path(self, name: str) -> Path:
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"not a storage name: {name!r}")
        return self.root.joinpath(*rel.parts)

    @contextlib.contextmanager
    def writer(self, name: str):
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(path.name + ".part")
        with tmp.open("wb") as fh:
            os.chmod(tmp, 0o600)  # artifacts hold a team's data: owner-only
            try:
                yield fh.write
            except BaseException:
                fh.close()
                tmp.unlink(missing_ok=True)
                raise
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)

    def read(self, name: str) -> Iterator[bytes]:
        with self._path(name).open("rb") as fh:
            while chunk := fh.read(READ_CHUNK):
                yield chunk

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    def locate(self, name: str) -> str:
        return str(self._path(name))


def get_storage(name: str = "local") -> Storage:
    if name == "local":
        return LocalStorage()
    raise ValueError(f"unknown storage target {name!r}")
