"""Where artifacts live. A small interface: names are relative ("<team>/<backup uuid>/<file>"),
writes are streamed and atomic (a reader never sees half an artifact).

Built in: the local directory (settings.BACKUP_DIR, DOCKERFORGE_BACKUP_DIR, default
var/backups). Other kinds are plugins: classes registered in the `backup_storage` registry,
which loads the entry-point group `dockerforge.backup_storage` (our own S3 class joins that
way too, declared in pyproject.toml: apps/backups/s3.py). A team's StorageTarget row names
the kind and carries its settings; `storage_of(backup)` opens the right one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from django.conf import settings

from apps.core.registries import Registry

READ_CHUNK = 1024 * 1024


class StorageError(Exception):
    """The target cannot be used (unreachable, refused, misconfigured); the message is safe
    to show (it never holds a secret)."""


class Storage:
    name = "base"

    @classmethod
    def from_target(cls, target) -> Storage:
        """An instance configured by a team's StorageTarget row."""
        raise NotImplementedError

    @classmethod
    def validate(cls, fields: dict) -> dict[str, list[str]]:
        """Field errors of a StorageTarget of this kind (fields: the model's field names)."""
        return {}

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

    def check(self) -> None:
        """Reach the target now (a storage target's check); StorageError when it cannot."""


class LocalStorage(Storage):
    name = "local"

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root or settings.BACKUP_DIR).resolve()

    @classmethod
    def validate(cls, fields: dict) -> dict[str, list[str]]:
        prefix = (fields.get("prefix") or "").strip("/")
        if prefix and (".." in PurePosixPath(prefix).parts or "\x00" in prefix):
            return {"prefix": ["A folder below the backup directory: no '..'."]}
        return {}

    @classmethod
    def from_target(cls, target) -> LocalStorage:
        # a team's local target is a folder below the installation's backup directory, never
        # an arbitrary server path
        base = cls()
        return cls(base._path(target.prefix.strip("/"))) if target.prefix.strip("/") else base

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

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StorageError(f"The backup directory is not usable: {exc.strerror}") from None


# kind -> Storage subclass; plugins join through the entry-point group dockerforge.backup_storage
backup_storage = Registry("backup_storage")
backup_storage.register("local", LocalStorage)


def get_storage(name: str = "local", target=None) -> Storage:
    """The storage of kind `name`, configured by `target` (a StorageTarget) when given."""
    try:
        cls = backup_storage.get(name)
    except KeyError:
        raise StorageError(f"Unknown storage kind {name!r} (is its plugin installed?)") from None
    return cls.from_target(target) if target is not None else cls()


def validate_target(fields: dict) -> None:
    """Raise ValidationError (field errors) unless `fields` describe a usable StorageTarget."""
    from django.core.exceptions import ValidationError

    kind = fields.get("kind") or ""
    if kind not in backup_storage:
        raise ValidationError({"kind": [f"Unknown storage kind {kind!r} (is its plugin installed?)"]})
    errors = backup_storage.get(kind).validate(fields)
    if errors:
        raise ValidationError(errors)


def check_target(target) -> str | None:
    """Reach a StorageTarget now: None when it answers, else why not (safe to show: never a secret)."""
    try:
        get_storage(target.kind, target).check()
    except StorageError as exc:
        return str(exc)
    return None


def storage_of(backup) -> Storage:
    """Where this backup's files are."""
    return get_storage(backup.storage, backup.storage_target)
