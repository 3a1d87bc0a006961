"""Incremental volume backups (file level), and the volume backup that serves as their base.

Every volume backup lists the volume first (a helper runs `find`/`stat`: type, mode, owner,
size, mtime and ctime in nanoseconds, link target) and stores that index as an artifact of
its own ("index.json.gz": hashed, and encrypted with the team key like the data, since file
names can be sensitive; the database manifest only holds counts). The listing is taken
before the archive, so a file that changes while the archive is written shows up as changed
next time: the index never claims a newer state than the data holds.

An incremental backup finds the team's newest full backup of that volume on that host that
is completed and did not fail verification, and within its chain (the full plus the
increments based on it) the newest member whose own chain is intact: the parent. After
BACKUP_INCREMENTAL_MAX_CHAIN increments on one full, the next backup is a full one again. It lists
the volume, compares with the parent's index, and archives only the entries that are new or
changed (any field differs), plus their parent directories (so directory modes and times
come back right after the files inside were rewritten), and records the deleted paths. The
helper archives the list with busybox `cpio -o -H newc -0` (NUL-separated names: any byte is
allowed) and the stream is rewritten here as a tar, so each increment is a plain tar.gz like
a full one. Without a usable full, the backup is made as a full one (and says so).

Restore replays the chain: the full, then per increment its deletions and its tar, in order.
"""

from __future__ import annotations

import json
import secrets
import stat
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from apps.engine import backups as engine
from apps.engine import volume_files
from apps.engine.errors import PermanentEngineError

from .models import Backup

INDEX_FILE = "index.json.gz"
INDEX_FORMAT = "dockerforge-volume-index/1"
OUT_CHUNK = 1024 * 1024

# Each record starts on a new line with a random token, so names holding newlines still parse.
LIST_SCRIPT = r"""cd /v || exit 2
T="$1"
find . -exec stat -c "${T}S|%f|%u|%g|%s|%y|%z|%n" {} + 2>/dev/null
find . -type l -exec sh -c 'T="$1"; shift; for f; do printf "%sL|%s\0" "$T" "$f"; readlink "$f"; done' sh "$T" {} + 2>/dev/null
exit 0
"""
ARCHIVE_SCRIPT = "cd /v && cpio -o -H newc -0 < /in/list"
DELETE_SCRIPT = "cd /v && xargs -0 -r rm -rf -- < /in/deleted"


# --- the index ------------------------------------------------------------------------------------

def _name(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _raw(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def parse_listing(output: bytes, token: bytes) -> dict[str, list]:
    """path -> [mode (with type bits), uid, gid, size, mtime, ctime, link target]."""
    data = b"\n" + output
    if data.endswith(b"\n"):
        data = data[:-1]
    index: dict[str, list] = {}
    links: dict[str, str] = {}
    for record in data.split(b"\n" + token)[1:]:
        if record.startswith(b"S|"):
            _s, mode, uid, gid, size, mtime, ctime, name = record.split(b"|", 7)
            index[_name(name)] = [int(mode, 16), int(uid), int(gid), int(size), mtime.decode(), ctime.decode(), ""]
        elif record.startswith(b"L|"):
            name, _, target = record[2:].partition(b"\0")
            links[_name(name)] = _name(target)
    for name, target in links.items():
        if name in index:
            index[name][6] = target
    return index


def list_volume(client, image: str, volume: str, labels: dict) -> dict[str, list]:
    token = ("@df" + secrets.token_hex(8) + "@").encode()
    output = volume_files.run_output(client, image, volume, ["sh", "-c", LIST_SCRIPT, "sh", token.decode()], labels=labels)
    index = parse_listing(output, token)
    if "." not in index:
        raise PermanentEngineError(f"Listing volume {volume} returned nothing")
    return index


def _parents(path: str) -> Iterator[str]:
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        yield path


def _order(path: str) -> tuple:
    return tuple(path.split("/"))  # parents sort before their children


@dataclass
class Changes:
    changed: list[str]
    deleted: list[str]
    archive: list[str]


def diff(old: dict[str, list], new: dict[str, list]) -> Changes:
    """What changed from `old` to `new`, and what to archive (changes plus their parent
    directories, so the replay restores their modes and times)."""
    changed = sorted((p for p, entry in new.items() if old.get(p) != entry), key=_order)
    deleted = sorted((p for p in old if p not in new), key=_order)
    archive = set(changed)
    for path in [*changed, *deleted]:
        archive.update(p for p in _parents(path) if p in new)
    return Changes(changed, deleted, sorted(archive, key=_order))


# --- cpio (newc) -> tar ------------------------------------------------------------------------------

class _Reader:
    def __init__(self, chunks: Iterable[bytes]):
        self.chunks, self.data = iter(chunks), bytearray()

    def read(self, n: int) -> bytes:
        while len(self.data) < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                raise PermanentEngineError("The archive helper's output ended early")
            self.data += chunk
        out = bytes(self.data[:n])
        del self.data[:n]
        return out

    def pieces(self, n: int) -> Iterator[bytes]:
        """n bytes as they arrive (a big file is never held in memory)."""
        while n:
            if not self.data:
                chunk = next(self.chunks, None)
                if chunk is None:
                    raise PermanentEngineError("The archive helper's output ended early")
                self.data += chunk
            piece = bytes(self.data[:n])
            del self.data[: len(piece)]
            n -= len(piece)
            yield piece


def _pad(n: int, to: int) -> int:
    return (to - n % to) % to


TAR_TYPES = {stat.S_IFDIR: tarfile.DIRTYPE, stat.S_IFLNK: tarfile.SYMTYPE, stat.S_IFCHR: tarfile.CHRTYPE,
             stat.S_IFBLK: tarfile.BLKTYPE, stat.S_IFIFO: tarfile.FIFOTYPE, stat.S_IFREG: tarfile.REGTYPE}


def _header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def cpio_to_tar(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Rewrite a cpio newc stream as a tar stream (modes, owners, mtimes, links, devices kept;
    hard links, whose data busybox writes with the last name, become tar links to it)."""
    reader = _Reader(chunks)
    out = bytearray()
    pending: dict[int, list[tarfile.TarInfo]] = {}  # hard-linked names seen before their data

    def emit(data: bytes) -> Iterator[bytes]:
        out.extend(data)
        if len(out) >= OUT_CHUNK:
            yield bytes(out)
            out.clear()

    while True:
        head = reader.read(110)
        if head[:6] != b"070701":
            raise PermanentEngineError("The archive helper wrote something that is not a cpio newc archive")
        f = [int(head[6 + 8 * i: 14 + 8 * i], 16) for i in range(13)]
        ino, mode, uid, gid, nlink, mtime, size, _dmaj, _dmin, rmaj, rmin, namesize = f[:12]
        name = reader.read(namesize)[:-1]
        reader.read(_pad(110 + namesize, 4))
        if name == b"TRAILER!!!":
            break
        kind = stat.S_IFMT(mode)
        info = tarfile.TarInfo(_name(name))
        info.mode, info.uid, info.gid, info.mtime = stat.S_IMODE(mode), uid, gid, mtime
        info.type = TAR_TYPES.get(kind, tarfile.REGTYPE)
        info.devmajor, info.devminor = rmaj, rmin
        if kind == stat.S_IFLNK:
            info.linkname = _name(reader.read(size))
            reader.read(_pad(size, 4))
            yield from emit(_header(info))
            continue
        if kind == stat.S_IFSOCK:  # tar cannot hold sockets; they are recreated by their programs
            reader.read(size + _pad(size, 4))
            continue
        if kind == stat.S_IFREG and nlink > 1 and size == 0:
            pending.setdefault(ino, []).append(info)
            continue
        info.size = size if kind == stat.S_IFREG else 0
        yield from emit(_header(info))
        for piece in reader.pieces(size):
            yield from emit(piece)
        reader.read(_pad(size, 4))
        yield from emit(b"\0" * _pad(info.size, tarfile.BLOCKSIZE))
        for link in pending.pop(ino, []) if kind == stat.S_IFREG else []:
            link.type, link.linkname = tarfile.LNKTYPE, info.name
            yield from emit(_header(link))
    for infos in pending.values():  # empty hard-linked files: the first is the file, the rest link to it
        first, *rest = infos
        yield from emit(_header(first))
        for link in rest:
            link.type, link.linkname = tarfile.LNKTYPE, first.name
            yield from emit(_header(link))
    yield from emit(b"\0" * (2 * tarfile.BLOCKSIZE))
    if out:
        yield bytes(out)


# --- choosing the parent ----------------------------------------------------------------------------

def _usable(backup: Backup) -> bool:
    return backup.status == Backup.Status.COMPLETED and backup.verify_ok is not False and bool(index_entry(backup))


def index_entry(backup: Backup) -> dict | None:
    return next((a for a in backup.manifest.get("artifacts") or [] if a.get("role") == "index"), None)


def chain(backup: Backup) -> list[Backup]:
    """The backups a restore replays, oldest (the full) first."""
    members = [backup]
    while members[-1].parent_id:
        members.append(Backup.objects.select_related("storage_target").get(pk=members[-1].parent_id))
    return members[::-1]


def find_parent(backup: Backup) -> Backup | None:
    """The newest backup of the same volume, host and team that an increment can build on."""
    fulls = Backup.objects.filter(team_id=backup.team_id, host_id=backup.host_id, kind=Backup.Kind.VOLUME,
                                  target_name=backup.target_name, mode=Backup.Mode.FULL,
                                  status=Backup.Status.COMPLETED).exclude(pk=backup.pk).exclude(verify_ok=False)
    base = next((b for b in fulls.order_by("-created_at")[:20] if _usable(b)), None)
    if base is None:
        return None
    members = Backup.objects.filter(Q(pk=base.pk) | Q(base=base)).exclude(pk=backup.pk).order_by("-created_at")
    return next((m for m in members if all(_usable(c) for c in chain(m))), None)


def prepare(backup: Backup, incremental: bool, progress) -> None:
    """Set the backup's mode, parent and base (an increment without a usable full is a full)."""
    if not incremental or backup.kind != Backup.Kind.VOLUME:
        return
    parent = find_parent(backup)
    if parent is None:
        progress.log("No usable full backup of this volume on this host: making a full backup instead")
        return
    if len(chain(parent)) > settings.BACKUP_INCREMENTAL_MAX_CHAIN:
        progress.log(f"The chain holds {settings.BACKUP_INCREMENTAL_MAX_CHAIN} increments: making a full backup instead")
        return
    backup.mode, backup.parent = Backup.Mode.INCREMENTAL, parent
    backup.base_id = parent.base_id or parent.pk
    backup.save(update_fields=["mode", "parent", "base"])
    progress.log(f"Incremental: changes since backup {parent.uuid} ({parent.created_at:%Y-%m-%d %H:%M})")


# --- writing ----------------------------------------------------------------------------------------

def read_json_artifact(backup: Backup, entry: dict) -> dict:
    from .services import _checked_stream

    return json.loads(b"".join(_checked_stream(backup, entry)))


def write_volume(job, image: str, volume: str, labels: dict) -> None:
    """The artifacts of a volume backup: the full tar or the increment, then the index."""
    backup = job.backup
    index = list_volume(job.client, image, volume, labels)
    job.progress.log(f"Listed {len(index)} entries")
    info = engine.inspect_volume(job.client, volume)
    details = {"volume": {"name": volume, "driver": info.get("Driver"), "labels": info.get("Labels") or {}}}
    record = {"format": INDEX_FORMAT, "entries": index}
    old = _parent_index(job) if backup.mode == Backup.Mode.INCREMENTAL else None
    if old is not None:
        changes = diff(old, index)
        job.progress.log(f"{len(changes.changed)} new or changed, {len(changes.deleted)} deleted")
        names = b"".join(_raw(p) + b"\0" for p in changes.archive)
        with volume_files.run_streaming(job.client, image, volume, ["sh", "-c", ARCHIVE_SCRIPT], labels=labels,
                                        inputs={"list": names}) as chunks:
            job.write("increment.tar.gz", "increment", cpio_to_tar(chunks), **details)
        record.update(changed=changes.changed, deleted=changes.deleted)
        job.extra["manifest"] = {"changes": {"changed": len(changes.changed), "deleted": len(changes.deleted),
                                             "archived": len(changes.archive)}}
    else:
        with engine.volume_tar(job.client, image, volume, labels=labels) as chunks:
            job.write("volume.tar.gz", "volume", chunks, **details)
    job.write(INDEX_FILE, "index", [json.dumps(record).encode()], entries=len(index))


def _parent_index(job) -> dict | None:
    """The parent's file index; when it cannot be read (damaged, storage down) the backup
    becomes a full one rather than failing: a scheduled backup still happens."""
    from .artifact import ArtifactError
    from .services import BackupRefused
    from .storage import StorageError

    backup = job.backup
    try:
        return read_json_artifact(backup.parent, index_entry(backup.parent))["entries"]
    except (ArtifactError, BackupRefused, StorageError, OSError, ValueError, KeyError) as exc:
        job.progress.log(f"The index of backup {backup.parent.uuid} is unreadable ({exc}): making a full backup instead")
        backup.mode, backup.parent, backup.base = Backup.Mode.FULL, None, None
        backup.save(update_fields=["mode", "parent", "base"])
        return None


# --- restoring ----------------------------------------------------------------------------------------

def apply_increment(client, image: str, backup: Backup, volume: str, labels: dict, progress) -> None:
    """Deletions, then the increment's tar, into `volume`."""
    from .services import _artifacts, _checked_stream

    record = read_json_artifact(backup, index_entry(backup))
    deleted = record.get("deleted") or []
    if deleted:
        names = b"".join(_raw(p) + b"\0" for p in deleted)
        volume_files.run_output(client, image, volume, ["sh", "-c", DELETE_SCRIPT], labels=labels, writable=True,
                                inputs={"deleted": names})
    for entry in _artifacts(backup, "increment"):
        engine.extract_into_volume(client, image, volume, _checked_stream(backup, entry), labels=labels, clear=False)
    progress.log(f"Applied increment {backup.uuid}: {len(record.get('changed') or [])} changed, {len(deleted)} deleted")
