"""Restore drill: prove a backup restores, without touching anything real.

Verify (hashes) runs first; the drill then restores every volume artifact into a scratch
volume and every container spec into a scratch container (created, never started: no ports,
no mounts, no network), all with unique `dfdrill-<token>-N` names and a helper label, on the
backup's host. It compares:
  - a volume: every entry read back from the scratch volume (type, mode, owner, size, mtime,
    link target, SHA-256 of the content) against the manifest's per-file hashes when it has
    them, else against the same index of the artifact's own tar stream;
  - a container: the created container's config against the backed-up inspect.
The scratch objects are removed always (also when the drill fails), and the report says so.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import tarfile
import uuid
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.utils import timezone

from apps.containers.helper_image import ensure_helper_image
from apps.engine import backups as engine
from apps.engine import lifecycle as engine_lifecycle
from apps.engine import resources as engine_resources
from apps.engine.errors import EngineError, EngineObjectNotFound
from apps.hosts.services import client_for

from . import services as base
from .models import Backup

logger = logging.getLogger(__name__)
DRILL_LABELS = {"org.dockerforge.helper": "drill"}
PREFIX = "dfdrill-"
MAX_PROBLEMS = 20
# Container fields a restore must bring back (what a scratch create can show without starting).
CONFIG_FIELDS = ("Image", "Cmd", "Entrypoint", "Env", "WorkingDir", "User", "Labels", "Healthcheck", "StopSignal", "ExposedPorts")
HOST_FIELDS = ("Memory", "NanoCpus", "CapAdd", "CapDrop", "Privileged", "RestartPolicy")
# A scratch container must not look like part of a Compose project (`up --remove-orphans`,
# discovery): these labels are left off it and out of the comparison.
COMPOSE_LABELS = "com.docker.compose."


# --- tar indexes (pure) --------------------------------------------------------------------------

class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (tarfile's stream mode reads it)."""

    def __init__(self, chunks: Iterable[bytes]):
        self.chunks: Iterator[bytes] = iter(chunks)
        self.rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.rest:
            chunk = next(self.chunks, None)
            if chunk is None:
                return 0
            self.rest = chunk
        n = min(len(buffer), len(self.rest))
        buffer[:n], self.rest = self.rest[:n], self.rest[n:]
        return n


def _path(name: str) -> str:
    name = name.removeprefix("./").rstrip("/")
    return name if name not in ("", ".") else "."


def tar_index(chunks: Iterable[bytes]) -> dict[str, tuple]:
    """path -> (type, mode, uid, gid, size, mtime, link target, sha256) for every entry; the
    root's mtime is left out (it is the mount point the restore writes into)."""
    index: dict[str, tuple] = {}
    with tarfile.open(fileobj=io.BufferedReader(_ChunkReader(chunks), 1024 * 1024), mode="r|") as tar:
        for member in tar:
            path, digest = _path(member.name), ""
            if member.isreg():
                sha = hashlib.sha256()
                fh = tar.extractfile(member)
                while data := fh.read(1024 * 1024):
                    sha.update(data)
                digest = sha.hexdigest()
            mtime = 0 if path == "." else int(member.mtime)
            index[path] = (member.type.decode(), member.mode & 0o7777, member.uid, member.gid,
                           member.size if member.isreg() else 0, mtime, member.linkname, digest)
    return index


def compare_index(expected: dict[str, tuple], restored: dict[str, tuple]) -> list[str]:
    problems = [f"missing after restore: {p}" for p in sorted(expected.keys() - restored.keys())]
    problems += [f"not in the backup: {p}" for p in sorted(restored.keys() - expected.keys())]
    problems += [f"differs: {p}" for p in sorted(expected.keys() & restored.keys()) if expected[p] != restored[p]]
    return problems


def compare_file_hashes(files: dict, restored: dict[str, tuple]) -> list[str]:
    """The manifest's per-file hashes ({path: sha256} or {path: {"sha256": ...}}) against the
    restored volume's regular files."""
    problems = []
    for path, want in sorted(files.items()):
        want = want.get("sha256") if isinstance(want, dict) else want
        got = restored.get(_path(path))
        if got is None:
            problems.append(f"missing after restore: {path}")
        elif got[7] != want:
            problems.append(f"content differs: {path}")
    return problems


def config_view(inspect: dict) -> dict:
    """The fields compared between the backed-up container and the scratch one."""
    config, host = inspect.get("Config") or {}, inspect.get("HostConfig") or {}
    view = {f"Config.{k}": config.get(k) for k in CONFIG_FIELDS} | {f"HostConfig.{k}": host.get(k) for k in HOST_FIELDS}
    labels = {k: v for k, v in (view["Config.Labels"] or {}).items() if k not in DRILL_LABELS and not k.startswith(COMPOSE_LABELS)}
    view["Config.Labels"], view["Config.Env"] = labels, sorted(view["Config.Env"] or [])
    return view


def scratch_body(body: dict) -> dict:
    """A create body that cannot touch anything real: no ports, mounts or networks, labelled."""
    body = copy.deepcopy(body)
    labels = {k: v for k, v in (body.get("Labels") or {}).items() if not k.startswith(COMPOSE_LABELS)}
    body["Labels"] = {**labels, **DRILL_LABELS}
    body.pop("NetworkingConfig", None)
    body.pop("Volumes", None)
    host = body.setdefault("HostConfig", {})
    for key in ("PortBindings", "Binds", "Mounts", "Links", "VolumesFrom", "Devices"):
        host.pop(key, None)
    host["NetworkMode"] = "none"
    host["PublishAllPorts"] = False
    return body


# --- the drill ------------------------------------------------------------------------------------

class _Scratch:
    """The scratch objects made so far, removed (and checked gone) at the end."""

    def __init__(self, client, token: str):
        self.client, self.token, self.count = client, token, 0
        self.volumes: list[str] = []
        self.containers: list[str] = []

    def name(self) -> str:
        self.count += 1
        return f"{PREFIX}{self.token}-{self.count}"

    def remove_all(self, progress) -> bool:
        ok = True
        for name in self.containers:
            ok &= self._gone(lambda n=name: engine_lifecycle.remove(self.client, n, force=True, volumes=True), name, progress)
        for name in self.volumes:
            ok &= self._gone(lambda n=name: engine_resources.remove_volume(self.client, n, force=True), name, progress)
        return ok

    def _gone(self, remove, name: str, progress) -> bool:
        try:
            remove()
        except EngineObjectNotFound:
            pass
        except EngineError as exc:
            progress.log(f"Could not remove the scratch object {name}: {exc}")
            logger.error("restore drill: removing %s failed: %s", name, exc)
            return False
        progress.log(f"Removed scratch {name}")
        return True


def _drill_volume(scratch: _Scratch, backup: Backup, entry: dict, progress) -> dict:
    client = scratch.client
    name = scratch.name()
    image = ensure_helper_image(client)
    engine_resources.create_volume(client, name, "local", None, DRILL_LABELS)
    scratch.volumes.append(name)
    engine.extract_into_volume(client, image, name, base._checked_stream(backup, entry), labels=DRILL_LABELS, clear=False)
    with engine.volume_tar(client, image, name, labels=DRILL_LABELS) as chunks:
        restored = tar_index(chunks)
    if isinstance(entry.get("files"), dict) and entry["files"]:
        against, problems = "manifest file hashes", compare_file_hashes(entry["files"], restored)
    else:
        against, problems = "archive stream", compare_index(tar_index(base.read_artifact(backup, entry)), restored)
    progress.log(f"Drill {entry['file']} -> {name}: {len(restored)} entries, {'identical' if not problems else f'{len(problems)} differences'}")
    return {"file": entry["file"], "role": "volume", "scratch": name, "entries": len(restored), "compared_with": against,
            "ok": not problems, "problems": problems[:MAX_PROBLEMS]}


def _drill_container(scratch: _Scratch, backup: Backup, entry: dict, progress) -> dict:
    client = scratch.client
    spec = json.loads(b"".join(base._checked_stream(backup, entry)))
    body = spec["plan"]["body"]
    if not engine_lifecycle.image_exists(client, body.get("Image") or ""):
        progress.log(f"Drill {entry['file']}: image {body.get('Image')} is not on the host; spec checked by hash only")
        return {"file": entry["file"], "role": "container", "ok": True, "skipped": f"image {body.get('Image')} is not on the host"}
    name = scratch.name()
    engine_lifecycle.create(client, scratch_body(body), name)
    scratch.containers.append(name)
    want, got = config_view(spec["inspect"]), config_view(engine_lifecycle.inspect_container(client, name))
    problems = [f"{k}: backed up {want[k]!r}, restored {got[k]!r}" for k in want if want[k] != got[k]]
    progress.log(f"Drill {entry['file']} -> {name}: {'same config' if not problems else f'{len(problems)} differences'}")
    return {"file": entry["file"], "role": "container", "scratch": name, "ok": not problems, "problems": problems[:MAX_PROBLEMS]}


DRILLS = {"volume": _drill_volume, "container": _drill_container}


def drill(backup: Backup, progress, host=None) -> dict:
    """Run the drill on `host` (default: the backup's own); the report (never raises for a
    failed comparison)."""
    host = host or backup.host
    report = {"ok": False, "at": timezone.now().isoformat(), "host": host.name if host else "",
              "checks": [], "scratch": [], "cleaned": False, "problems": []}
    if host is None:
        report["problems"].append("The backup has no host to drill on (an imported backup): choose a host of the team for the drill.")
        return report
    client = client_for(host, timeout=settings.BACKUP_ENGINE_TIMEOUT)
    scratch = _Scratch(client, uuid.uuid4().hex[:12])
    try:
        for entry in backup.manifest.get("artifacts") or []:
            run = DRILLS.get(entry["role"])
            if run is None:
                report["checks"].append({"file": entry["file"], "role": entry["role"], "ok": True, "skipped": "checked by hash only"})
                continue
            progress.check_cancel()
            report["checks"].append(run(scratch, backup, entry, progress))
    except Exception as exc:  # noqa: BLE001 - any failure is the drill's finding; cleanup follows
        report["problems"].append(f"The drill stopped: {exc}")
    finally:
        report["cleaned"] = scratch.remove_all(progress)
        report["scratch"] = scratch.volumes + scratch.containers
        client.close()
    if not report["cleaned"]:
        report["problems"].append("Some scratch objects could not be removed (see the log).")
    report["ok"] = not report["problems"] and all(c["ok"] for c in report["checks"])
    return report


def run_drill(backup: Backup, progress, host=None) -> dict:
    """Drill (on `host`, default the backup's), record the report on the backup, publish the
    outcome; BackupRefused on failure."""
    progress.log(f"Restore drill: restoring into scratch objects{f' on host {host.name}' if host else ''}")
    report = drill(backup, progress, host)
    backup.drill = report
    backup.save(update_fields=["drill"])
    failed = [p for c in report["checks"] for p in c.get("problems", [])] + report["problems"]
    summary = f"Restore drill of {backup.kind} {backup.target_name} " + ("passed" if report["ok"] else "FAILED")
    base._publish("backup.drilled", backup, summary, severity="info" if report["ok"] else "error",
                  data={"ok": report["ok"], "problems": failed[:MAX_PROBLEMS]})
    if not report["ok"]:
        raise base.BackupRefused("The restore drill failed:\n" + "\n".join(failed[:MAX_PROBLEMS]))
    return report
