"""One backup as one portable file, to move it between installations.

The export is an uncompressed tar (the artifacts are compressed already), streamed straight
from storage: `dockerforge-export.json` (what this is), `manifest.json` (byte for byte as
stored), then every artifact as stored (encrypted ones stay encrypted). The team key is never
in it: importing an encrypted backup needs the exported key imported into the team first.

Import validates before accepting anything: the tar's members (regular files with plain names,
nothing extra, nothing missing), the manifest's shape, and every artifact read back in full
(decrypted with the team's keys, decompressed) against every size and hash of the manifest.
Any problem removes what was written and answers one clear reason.
"""

from __future__ import annotations

import contextlib
import json
import re
import tarfile
import time
import uuid
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.activity.audit import record_action
from apps.core.roles import Action

from . import artifact, keys
from . import services as base
from .models import Backup, BackupKey
from .storage import StorageError, get_storage, storage_of

EXPORT_FORMAT = "dockerforge-backup-export/1"
INFO = "dockerforge-export.json"
CHUNK = 1024 * 1024
BLOCK = 512
MAX_MEMBERS = 10_000
MAX_MANIFEST = 16 * 1024 * 1024
SAFE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,250}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAIN_ROLE = {Backup.Kind.VOLUME: "volume", Backup.Kind.CONTAINER: "container", Backup.Kind.IMAGE: "image",
             Backup.Kind.STACK: "stack"}


def refuse(reason: str) -> ValidationError:
    return ValidationError({"file": [f"Not accepted: {reason}"]})


# --- export ---------------------------------------------------------------------------------------

def start_export(user, backup: Backup) -> Iterator[bytes]:
    """Authorize and audit now (a streamed body runs after the view returns); the tar stream.
    An export carries the team's data out of the installation: admins only."""
    base.authorize(user, backup.team_id, Action.MANAGE)
    if backup.status != Backup.Status.COMPLETED:
        raise ValidationError({"backup": ["Only a completed backup can be exported."]})
    if backup.mode == Backup.Mode.INCREMENTAL:
        # One file holds one backup; an increment alone restores nothing.
        raise ValidationError({"backup": ["An incremental backup needs its whole chain: export its full backup instead."]})
    record_action("backup.export", backup, {"backup": str(backup.uuid)})
    return export_stream(backup)


def filename(backup: Backup) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", backup.target_name)[:60] or "backup"
    return f"dockerforge-{backup.kind}-{safe}-{backup.uuid.hex[:12]}.tar"


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(time.time())
    return info.tobuf(format=tarfile.PAX_FORMAT)


def _padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


def _member(name: str, data: bytes) -> bytes:
    return _header(name, len(data)) + data + _padding(len(data))


def export_stream(backup: Backup) -> Iterator[bytes]:
    """The export tar, streamed from storage."""
    storage = storage_of(backup)
    info = {"format": EXPORT_FORMAT, "backup": str(backup.uuid), "kind": backup.kind, "target": backup.target_name,
            "exported_at": timezone.now().isoformat(), "encrypted_with": backup.key_id or None}
    yield _member(INFO, json.dumps(info, indent=2).encode())
    yield _member(base.MANIFEST, storage.read_bytes(f"{backup.folder}/{base.MANIFEST}"))
    for entry in backup.manifest.get("artifacts") or []:
        size, sent = int(entry["stored_size"]), 0
        yield _header(entry["file"], size)
        for chunk in storage.read(f"{backup.folder}/{entry['file']}"):
            sent += len(chunk)
            if sent > size:
                raise OSError(f"{entry['file']} is larger in storage than its manifest says: export aborted")
            yield chunk
        if sent != size:
            raise OSError(f"{entry['file']} is shorter in storage than its manifest says: export aborted")
        yield _padding(size)
    yield b"\0" * (2 * BLOCK)


# --- import ---------------------------------------------------------------------------------------

def _members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    members: dict[str, tarfile.TarInfo] = {}
    for n, member in enumerate(tar):
        if n >= MAX_MEMBERS:
            raise refuse("the file holds too many entries.")
        if not member.isreg() or not SAFE_FILE.match(member.name):
            raise refuse(f"unexpected entry {member.name[:100]!r} (only plain files at the top level).")
        if member.name in members:
            raise refuse(f"{member.name} appears twice.")
        members[member.name] = member
    return members


def _json_member(tar: tarfile.TarFile, members: dict, name: str) -> tuple[bytes, dict]:
    member = members.get(name)
    if member is None:
        raise refuse(f"{name} is missing: this is not a DockerForge backup export.")
    if member.size > MAX_MANIFEST:
        raise refuse(f"{name} is too large.")
    raw = tar.extractfile(member).read()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise refuse(f"{name} is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise refuse(f"{name} is not a JSON object.")
    return raw, data


def validate_manifest(manifest: dict, members: dict) -> list[dict]:
    """The manifest's shape, and the export holds exactly its artifacts; the artifact list."""
    if manifest.get("format") != base.MANIFEST_FORMAT:
        raise refuse(f"the manifest's format is {manifest.get('format')!r}, expected {base.MANIFEST_FORMAT!r}.")
    if manifest.get("kind") not in Backup.Kind.values:
        raise refuse(f"unknown backup kind {manifest.get('kind')!r}.")
    source = manifest.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("name"), str) or not 0 < len(source["name"]) <= 300:
        raise refuse("the manifest does not name what was backed up.")
    artifacts = manifest.get("artifacts")
    if not isinstance(artifacts, list) or not artifacts:
        raise refuse("the manifest lists no artifacts.")
    seen = set()
    for entry in artifacts:
        ok = (isinstance(entry, dict) and isinstance(entry.get("file"), str) and SAFE_FILE.match(entry["file"])
              and entry["file"] not in (INFO, base.MANIFEST) and isinstance(entry.get("role"), str)
              and all(isinstance(entry.get(k), int) and entry[k] >= 0 for k in ("stored_size", "content_size"))
              and all(isinstance(entry.get(k), str) and SHA256.match(entry[k]) for k in ("stored_sha256", "content_sha256")))
        if not ok:
            raise refuse(f"a manifest entry is malformed: {str(entry)[:200]}")
        if entry["file"] in seen:
            raise refuse(f"{entry['file']} is listed twice in the manifest.")
        seen.add(entry["file"])
        if entry["file"] not in members:
            raise refuse(f"{entry['file']} is listed in the manifest but missing from the file.")
        if members[entry["file"]].size != entry["stored_size"]:
            raise refuse(f"{entry['file']} has {members[entry['file']].size} bytes, the manifest says {entry['stored_size']}.")
    extra = set(members) - seen - {INFO, base.MANIFEST}
    if extra:
        raise refuse(f"unexpected files: {', '.join(sorted(extra))[:300]}.")
    if not any(e["role"] == MAIN_ROLE[manifest["kind"]] for e in artifacts):
        raise refuse(f"a {manifest['kind']} backup without its {MAIN_ROLE[manifest['kind']]} artifact.")
    return artifacts


def _check_key(team, manifest: dict) -> None:
    enc = manifest.get("encryption")
    if enc is None:
        return
    key_id = enc.get("key_id") if isinstance(enc, dict) else None
    if not isinstance(key_id, str) or not key_id:
        raise refuse("the manifest's encryption section names no key.")
    if not BackupKey.objects.filter(team=team, key_id=key_id).exists():
        raise refuse(f"the backup is encrypted with key {key_id}, which this team does not have: import the exported key first.")


def _store_checked(tar: tarfile.TarFile, member: tarfile.TarInfo, entry: dict, storage, name: str, team) -> None:
    """Copy one artifact into storage while reading it back in full; refuse on any mismatch."""
    digest = artifact.Digest()
    with storage.writer(name) as sink:
        def chunks() -> Iterator[bytes]:
            fh = tar.extractfile(member)
            while data := fh.read(CHUNK):
                sink(data)
                yield data

        try:
            for _content in artifact.read(chunks(), key_for=keys.key_lookup(team), digest=digest):
                pass
        except artifact.ArtifactError as exc:
            raise refuse(f"{entry['file']}: {exc}") from None
        result = artifact.compare(entry, digest)
        if not result.ok:
            raise refuse(f"{entry['file']} does not match its manifest ({'; '.join(result.problems)}).")


def import_file(user, team, fileobj, key_text: str = "", storage_target=None) -> Backup:
    """Import an export into `team` (MANAGE): validated in full, then registered as verified.
    `key_text`: an exported team key to import too (kept only when the import succeeds);
    `storage_target`: one of the team's StorageTargets to keep it in (default: local)."""
    base.authorize(user, team.pk, Action.MANAGE)
    if storage_target is not None and storage_target.team_id != team.pk:
        raise ValidationError({"storage_target": ["Choose a storage target of this team."]})
    with transaction.atomic():
        if key_text.strip():
            keys.import_key(team, key_text)
        backup = _import(user, team, fileobj, storage_target)
    record_action("backup.import", backup, {"backup": backup.manifest.get("backup"), "kind": backup.kind})
    base._publish("backup.imported", backup, f"Imported {backup.kind} backup of {backup.target_name}")
    return backup


def _import(user, team, fileobj, target=None) -> Backup:
    try:
        tar = tarfile.open(fileobj=fileobj, mode="r:")
        members = _members(tar)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise refuse(f"not a tar archive ({exc}).") from None
    _raw, info = _json_member(tar, members, INFO)
    if info.get("format") != EXPORT_FORMAT:
        raise refuse(f"{INFO} has format {info.get('format')!r}, expected {EXPORT_FORMAT!r}.")
    manifest_raw, manifest = _json_member(tar, members, base.MANIFEST)
    artifacts = validate_manifest(manifest, members)
    _check_key(team, manifest)

    storage_name = target.kind if target is not None else Backup._meta.get_field("storage").default
    try:
        storage = get_storage(storage_name, target)
    except StorageError as exc:
        raise ValidationError({"storage_target": [str(exc)]}) from None
    folder = f"team-{team.pk}/{uuid.uuid4()}"
    try:
        for entry in artifacts:
            _store_checked(tar, members[entry["file"]], entry, storage, f"{folder}/{entry['file']}", team)
        storage.write_bytes(f"{folder}/{base.MANIFEST}", manifest_raw)
        backup = base.import_backup(user, team, folder, storage_name, target)
        backup.verified_at, backup.verify_ok = timezone.now(), True  # every hash was just checked
        backup.save(update_fields=["verified_at", "verify_ok"])
    except BaseException as exc:
        with contextlib.suppress(StorageError, OSError):  # the first error is the one to report
            storage.delete_prefix(folder)
        if isinstance(exc, StorageError):
            raise ValidationError({"storage_target": [f"The storage target failed: {exc}"]}) from None
        raise
    return backup
