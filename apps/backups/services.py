"""Backups: request_* (authorize, start an Operation) and perform_* (the work, in a task).

A backup is a folder in storage: one artifact per piece (a volume's tar, a container's spec,
an image archive), each gzip'd, optionally encrypted with the team key, hashed while it
streams, and a manifest.json describing all of them (also kept in the database). Verify
re-reads every artifact and checks every size and hash; restore verifies first and refuses
a backup that fails.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

import dockerforge
from apps.activity import operations
from apps.activity.audit import record_action
from apps.containers import create_spec
from apps.containers.helper_image import ensure_helper_image
from apps.containers.recreate import plan_for_container
from apps.core import events
from apps.core.api import user_may
from apps.core.roles import Action
from apps.engine import backups as engine
from apps.engine import lifecycle as engine_lifecycle
from apps.engine import resources as engine_resources
from apps.engine.errors import EngineError, EngineObjectNotFound, PermanentEngineError
from apps.hosts.models import DockerHost
from apps.hosts.services import client_for

from . import artifact, keys
from .models import Backup, Restore
from .storage import StorageError, storage_of

logger = logging.getLogger(__name__)
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "dockerforge-backup/1"
HELPER_LABELS = {"org.dockerforge.helper": "backup"}
STOP_LABEL = "dockerforge.backup.stop"
PRE_HOOK_LABEL = "dockerforge.backup.pre"
POST_HOOK_LABEL = "dockerforge.backup.post"
STOP_TIMEOUT = 30


class BackupRefused(Exception):
    """The backup cannot be restored (it failed verification or is incomplete)."""


def authorize(user, team_id: int, action: str = Action.OPERATE) -> None:
    if not user_may(user, team_id, action):
        raise PermissionDenied("Your role in this team does not allow this action.")


def backup_url(backup: Backup) -> str:
    return reverse("backups:detail", args=[backup.pk])


# --- requests -----------------------------------------------------------------------------

def _start(user, team, kind: str, *, target_kind: str, target_id, target_name: str, params: dict):
    from .tasks import backup_operation

    op = operations.start(team=team, kind=kind, task=backup_operation, user=user, target_kind=target_kind,
                          target_id=target_id, target_name=target_name, params=params)
    return op


def request_backup(user, host: DockerHost, kind: str, target_name: str, *, encrypt: bool = False,
                   include_volumes: bool = False, commit: bool = False, schedule_id: int | None = None,
                   incremental: bool = False, storage_target=None):
    """Back up a volume, container or image of `host` (OPERATE) as an Operation. `incremental`
    (volumes): only the files changed since the last full backup; `storage_target`: one of the
    team's StorageTargets (default: the local backup directory)."""
    authorize(user, host.team_id)
    errors = {}
    if storage_target is not None and storage_target.team_id != host.team_id:
        errors["storage_target"] = ["Choose a storage target of the host's team."]
    if incremental and kind != Backup.Kind.VOLUME:
        errors["incremental"] = ["Incremental backups are for volumes."]
    if kind not in Backup.Kind.values:
        errors["kind"] = [f"Choose one of: {', '.join(Backup.Kind.values)}."]
    target_name = (target_name or "").strip()
    if not target_name or len(target_name) > 300 or "\x00" in target_name:
        errors["target"] = ["Name the volume, container or image to back up."]
    if errors:
        raise ValidationError(errors)
    if kind == Backup.Kind.STACK:
        _stacks().validate_request(user, host, target_name)
    params = {"host": host.pk, "backup_kind": kind, "target": target_name, "encrypt": bool(encrypt),
              "include_volumes": bool(include_volumes), "commit": bool(commit), "schedule": schedule_id,
              "incremental": bool(incremental), "storage_target": storage_target.pk if storage_target else None}
    op = _start(user, host.team, "backup.create", target_kind=kind, target_id=host.pk, target_name=target_name, params=params)
    record_action("backup.request", host, {"operation": op.pk, **params})
    return op


def request_verify(user, backup: Backup, *, drill: bool = False, host: DockerHost | None = None):
    """Re-read and hash every artifact; `drill` also restores into scratch objects (drill.py)
    on `host` (default: the backup's own; an imported backup has none, so it names one)."""
    authorize(user, backup.team_id)
    if host is not None and not drill:
        raise ValidationError({"host": ["A host is only used by a restore drill: ask for the drill too."]})
    if host is not None and host.team_id != backup.team_id:
        raise ValidationError({"host": ["Choose a host of the backup's team."]})
    params = {"backup": backup.pk, "drill": bool(drill)}
    if host is not None:
        params["drill_host"] = host.pk
    return _start(user, backup.team, "backup.verify", target_kind="backup", target_id=backup.pk, target_name=str(backup),
                  params=params)


def request_restore(user, backup: Backup, host: DockerHost, target_name: str = "", *, overwrite: bool = False) -> Restore:
    """Restore into `host` (OPERATE; overwriting an existing target needs MANAGE)."""
    authorize(user, backup.team_id, Action.MANAGE if overwrite else Action.OPERATE)
    if host.team_id != backup.team_id:
        raise ValidationError({"host": ["Choose a host of the backup's team."]})
    if backup.status != Backup.Status.COMPLETED:
        raise ValidationError({"backup": ["Only a completed backup can be restored."]})
    if backup.verify_ok is False:
        raise ValidationError({"backup": ["This backup failed verification: it will not be restored."]})
    from .incremental import chain

    broken = [m for m in chain(backup)[:-1] if m.verify_ok is False or m.status != Backup.Status.COMPLETED]
    if broken:
        raise ValidationError({"backup": [f"Backup {broken[0].uuid}, which this incremental backup builds on, failed "
                                          "verification: it will not be restored."]})
    target_name = (target_name or "").strip() or backup.target_name
    if backup.kind == Backup.Kind.VOLUME:
        _validate_name(target_name, "target")
    elif backup.kind == Backup.Kind.CONTAINER:
        if not create_spec.NAME_RE.match(target_name):
            raise ValidationError({"target": ["Container names hold letters, digits, _ . and - (up to 128)."]})
    elif backup.kind == Backup.Kind.STACK:
        _stacks().validate_restore(user, backup, target_name)
    with transaction.atomic():
        restore = Restore.objects.create(team=backup.team, backup=backup, host=host, target_name=target_name, overwrite=bool(overwrite))
        restore.operation = _start(user, backup.team, "backup.restore", target_kind="restore", target_id=restore.pk,
                                   target_name=target_name, params={"restore": restore.pk})
        restore.save(update_fields=["operation"])
    return restore


def _validate_name(name: str, field_name: str) -> None:
    from apps.containers.volumes import validate_volume_name

    try:
        if not validate_volume_name(name):
            raise ValidationError("A name is required.")
    except ValidationError as exc:
        raise ValidationError({field_name: exc.messages}) from None


# --- the job: writing artifacts --------------------------------------------------------------

@dataclass
class Job:
    backup: Backup
    client: object
    progress: object
    key: bytes | None = None
    artifacts: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def storage(self):
        return storage_of(self.backup)

    def write(self, file: str, role: str, chunks: Iterable[bytes], **details) -> dict:
        """Stream one artifact into storage; returns (and records) its manifest entry."""
        name = f"{self.backup.folder}/{file}"
        last = [0]

        def on_content(n: int) -> None:
            if n - last[0] >= 64 * 1024 * 1024:  # a log line every 64 MB, a cancel check too
                last[0] = n
                self.progress.log(f"{file}: {n // (1024 * 1024)} MiB read")
                self.progress.check_cancel()

        with self.storage.writer(name) as sink:
            digest = artifact.write(chunks, sink, key=self.key, key_id=self.backup.key_id, on_content=on_content)
        entry = {"file": file, "role": role, **details, **digest.as_dict()}
        self.artifacts.append(entry)
        self.progress.log(f"{file}: {digest.content_size} bytes -> {digest.stored_size} stored, sha256 {digest.stored_sha256[:16]}…")
        return entry


def _helper(job: Job) -> str:
    return ensure_helper_image(job.client)


@contextlib.contextmanager
def quiesced(client, containers: list[dict], progress) -> Iterator[None]:
    """Run pre hooks, stop containers labelled dockerforge.backup.stop=true; afterwards
    (always, also when the archive failed) start them again and run post hooks."""
    running = [c for c in containers if (c.get("State") or {}).get("Running")]
    stopped: list[dict] = []
    hooked: list[dict] = []
    try:
        for c in running:
            hook = (c["Config"].get("Labels") or {}).get(PRE_HOOK_LABEL)
            if hook:
                hooked.append(c)
                code, out = engine.exec_simple(client, c["Id"], ["sh", "-c", hook])
                progress.log(f"pre hook in {c['Name'].lstrip('/')}: exit {code}")
                if code != 0:
                    raise PermanentEngineError(f"The pre-backup hook of {c['Name'].lstrip('/')} failed (exit {code}): {out[-500:]}")
        for c in running:
            if (c["Config"].get("Labels") or {}).get(STOP_LABEL, "").lower() == "true":
                engine_lifecycle.stop(client, c["Id"], STOP_TIMEOUT)
                stopped.append(c)
                progress.log(f"Stopped {c['Name'].lstrip('/')} for the archive")
        yield
    finally:
        for c in stopped:
            try:
                engine_lifecycle.start(client, c["Id"])
                progress.log(f"Started {c['Name'].lstrip('/')} again")
            except EngineError as exc:
                progress.log(f"Could not start {c['Name'].lstrip('/')} again: {exc}")
                logger.error("backup quiesce: starting %s again failed: %s", c["Id"][:12], exc)
        for c in hooked:
            hook = (c["Config"].get("Labels") or {}).get(POST_HOOK_LABEL)
            if hook:
                with contextlib.suppress(EngineError):
                    code, _out = engine.exec_simple(client, c["Id"], ["sh", "-c", hook])
                    progress.log(f"post hook in {c['Name'].lstrip('/')}: exit {code}")


def _containers_using(client, volume: str) -> list[dict]:
    with_volume = []
    for summary in client.api.containers(all=True, filters={"volume": volume}):
        with contextlib.suppress(EngineObjectNotFound):
            with_volume.append(engine_lifecycle.inspect_container(client, summary["Id"]))
    return with_volume


def _volume_artifact(job: Job, volume: str, file: str, role: str, *, quiesce: bool = True) -> dict:
    image = _helper(job)
    info = engine.inspect_volume(job.client, volume)
    users = _containers_using(job.client, volume) if quiesce else []
    with quiesced(job.client, users, job.progress):
        with engine.volume_tar(job.client, image, volume, labels=HELPER_LABELS) as chunks:
            return job.write(file, role, chunks, volume={"name": volume, "driver": info.get("Driver"), "labels": info.get("Labels") or {}})


def backup_volume(job: Job) -> None:
    """The volume's files (full, or an increment) and their index: see incremental.py."""
    from . import incremental

    image, volume = _helper(job), job.backup.target_name
    with quiesced(job.client, _containers_using(job.client, volume), job.progress):
        incremental.write_volume(job, image, volume, HELPER_LABELS)


def backup_container(job: Job) -> None:
    params = job.extra
    inspect = engine_lifecycle.inspect_container(job.client, job.backup.target_name)
    plan = plan_for_container(job.client, inspect["Id"])
    spec = {"inspect": inspect, "plan": plan.as_dict(), "running": bool((inspect.get("State") or {}).get("Running"))}
    job.write("container.json.gz", "container", [json.dumps(spec).encode()])
    volumes = [m["Name"] for m in inspect.get("Mounts") or [] if m.get("Type") == "volume" and m.get("Name")]
    if params.get("include_volumes"):
        with quiesced(job.client, [inspect], job.progress):
            for name in volumes:
                _volume_artifact(job, name, f"volume-{name}.tar.gz", "volume", quiesce=False)
    if params.get("commit"):
        repo, tag = "dockerforge-backup/" + plan.name.lower().strip("._-")[:100], job.backup.uuid.hex[:12]
        image_id = engine.commit(job.client, inspect["Id"], repo, tag)
        try:
            job.write("commit.tar.gz", "commit", engine_resources.save_image(job.client, f"{repo}:{tag}"), image={"ref": f"{repo}:{tag}", "id": image_id})
        finally:
            with contextlib.suppress(EngineError):
                engine_resources.remove_image(job.client, f"{repo}:{tag}")
    job.extra["manifest"] = {"container": {"name": plan.name, "id": inspect["Id"], "image": (inspect.get("Config") or {}).get("Image"), "volumes": volumes}}


def backup_image(job: Job) -> None:
    data = engine_resources.inspect_image(job.client, job.backup.target_name)
    job.write("image.tar.gz", "image", engine_resources.save_image(job.client, job.backup.target_name),
              image={"ref": job.backup.target_name, "id": data["Id"], "tags": data.get("RepoTags") or []})


def _stacks():
    from . import stacks  # stacks.py builds on this module's helpers

    return stacks


def backup_stack(job: Job) -> None:
    _stacks().backup_stack(job)


WRITERS = {Backup.Kind.VOLUME: backup_volume, Backup.Kind.CONTAINER: backup_container, Backup.Kind.IMAGE: backup_image,
           Backup.Kind.STACK: backup_stack}


def build_manifest(job: Job) -> dict:
    b = job.backup
    return {
        "format": MANIFEST_FORMAT,
        "tool": {"name": "dockerforge", "version": dockerforge.__version__},
        "backup": str(b.uuid),
        "kind": b.kind,
        "mode": b.mode,
        "parent": str(b.parent.uuid) if b.parent_id else None,
        "base": str(b.base.uuid) if b.base_id else None,
        "team": {"id": b.team_id},
        "source": {"host": {"id": b.host_id, "name": b.host.name if b.host else ""}, "name": b.target_name},
        "created_at": b.created_at.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "compression": "gzip-6",
        "encryption": {"algorithm": "AES-256-GCM-chunked", "key_id": b.key_id} if b.encrypted else None,
        "artifacts": job.artifacts,
        **job.extra.get("manifest", {}),
    }


def create_backup(host: DockerHost, kind: str, target_name: str, progress, *, params: dict | None = None,
                  operation=None, schedule_id: int | None = None) -> Backup:
    """Write one backup now, inside the caller's Operation (a backup job, or a step of another
    app's job such as an update run). `params`: encrypt, include_volumes, commit."""
    p = {"encrypt": False, "include_volumes": False, "commit": False, "incremental": False, "storage_target": None,
         **(params or {})}
    if kind == Backup.Kind.STACK and not p["encrypt"] and _stacks().holds_secrets(host, target_name):
        p["encrypt"] = True  # a stack's .env holds its secrets: never at rest in the clear
        progress.log("The stack has a .env file: the backup is encrypted with the team key.")
    target = _storage_target(host.team_id, p["storage_target"])
    backup = Backup.objects.create(team=host.team, kind=kind, host=host, target_name=target_name, operation=operation,
                                   encrypted=p["encrypt"], schedule_id=schedule_id, storage_target=target,
                                   storage=target.kind if target else "local")
    backup.folder = f"team-{host.team_id}/{backup.uuid}"
    key = keys.active_key(host.team) if p["encrypt"] else None
    backup.key_id = key.key_id if key else ""
    backup.save(update_fields=["folder", "key_id"])
    try:
        from .incremental import prepare

        prepare(backup, p["incremental"], progress)
        client = client_for(host, timeout=settings.BACKUP_ENGINE_TIMEOUT)
        try:
            job = Job(backup, client, progress, key=keys.raw(key) if key else None, extra=dict(p))
            WRITERS[backup.kind](job)
        finally:
            client.close()
        manifest = build_manifest(job)
        storage_of(backup).write_bytes(f"{backup.folder}/{MANIFEST}", json.dumps(manifest, indent=2).encode())
    except BaseException as exc:
        _failed(backup, str(exc) or exc.__class__.__name__)
        raise
    backup.manifest = manifest
    backup.size = sum(a["stored_size"] for a in job.artifacts)
    backup.content_size = sum(a["content_size"] for a in job.artifacts)
    backup.status, backup.finished_at = Backup.Status.COMPLETED, timezone.now()
    backup.save()
    mode = " (incremental)" if backup.mode == Backup.Mode.INCREMENTAL else ""
    _publish("backup.completed", backup, f"Backed up {backup.kind} {backup.target_name}{mode} ({backup.size} bytes)")
    return backup


def _storage_target(team_id: int, pk: int | None):
    from .models import StorageTarget

    return StorageTarget.objects.get(pk=pk, team_id=team_id) if pk else None


def perform_backup(op, progress) -> dict:
    p = op.params
    host = DockerHost.objects.select_related("team").get(pk=p["host"])
    backup = create_backup(host, p["backup_kind"], p["target"], progress, params=p, operation=op, schedule_id=p.get("schedule"))
    if backup.schedule_id:
        from .retention import apply_retention

        apply_retention(backup.schedule, progress)
    return {"backup": backup.pk, "size": backup.size, "folder": backup.folder, "mode": backup.mode}


def _failed(backup: Backup, error: str) -> None:
    backup.status, backup.error, backup.finished_at = Backup.Status.FAILED, error[:5000], timezone.now()
    # a failed increment holds no data: it must not pin the backups it would have built on
    backup.parent = backup.base = None
    backup.save(update_fields=["status", "error", "finished_at", "parent", "base"])
    with contextlib.suppress(Exception):
        storage_of(backup).delete_prefix(backup.folder)
    _publish("backup.failed", backup, f"Backup of {backup.kind} {backup.target_name} failed: {error[:200]}", severity="error")


def _publish(kind: str, backup: Backup, summary: str, severity: str = "info", data: dict | None = None) -> None:
    events.publish(kind, backup.team_id, severity=severity, host=backup.host,
                   target=events.ref("backup", backup, f"{backup.kind}:{backup.target_name}"),
                   summary=summary, url=backup_url(backup), data={"backup": backup.pk, **(data or {})})


# --- verify ------------------------------------------------------------------------------------

def read_artifact(backup: Backup, entry: dict, digest: artifact.Digest | None = None) -> Iterator[bytes]:
    return artifact.read(storage_of(backup).read(f"{backup.folder}/{entry['file']}"),
                         key_for=keys.key_lookup(backup.team), digest=digest)


def check(backup: Backup, progress=None) -> artifact.Check:
    """Re-read every artifact (decrypt, decompress) and compare sizes and hashes with the
    manifest; the manifest in storage must match the database's too."""
    problems = []
    try:
        stored_manifest = json.loads(storage_of(backup).read_bytes(f"{backup.folder}/{MANIFEST}"))
        if stored_manifest != backup.manifest:
            problems.append("manifest.json in storage differs from the one recorded")
    except (OSError, ValueError, StorageError) as exc:
        problems.append(f"manifest.json unreadable: {exc}")
    for entry in backup.manifest.get("artifacts") or []:
        digest = artifact.Digest()
        try:
            for _chunk in read_artifact(backup, entry, digest):
                pass
        except (artifact.ArtifactError, OSError, StorageError) as exc:
            problems.append(f"{entry['file']}: {exc}")
            continue
        result = artifact.compare(entry, digest)
        problems += [f"{entry['file']}: {p}" for p in result.problems]
        if progress:
            progress.log(f"{entry['file']}: {'ok' if result.ok else 'MISMATCH'}")
    if not backup.manifest.get("artifacts"):
        problems.append("the backup has no artifacts")
    return artifact.Check(not problems, problems)


def perform_verify(op, progress) -> dict:
    backup = Backup.objects.select_related("host").get(pk=op.params["backup"])
    result = check(backup, progress)
    _record_verify(backup, result)
    if not result.ok:
        raise BackupRefused("Verification failed:\n" + "\n".join(result.problems))
    outcome = {"backup": backup.pk, "ok": True}
    if op.params.get("drill"):
        from .drill import run_drill

        host = None
        if op.params.get("drill_host"):
            host = DockerHost.objects.filter(pk=op.params["drill_host"], team_id=backup.team_id).first()
            if host is None:  # removed (or moved to another team) since the request
                raise BackupRefused("The host chosen for the restore drill is no longer one of the team's hosts.")
        outcome["drill"] = run_drill(backup, progress, host=host)  # raises BackupRefused when the drill fails
    return outcome


def _record_verify(backup: Backup, result: artifact.Check) -> None:
    backup.verified_at, backup.verify_ok = timezone.now(), result.ok
    backup.save(update_fields=["verified_at", "verify_ok"])
    summary = f"Backup of {backup.kind} {backup.target_name} " + ("verified" if result.ok else "FAILED verification")
    _publish("backup.verified", backup, summary, severity="info" if result.ok else "error",
             data={"ok": result.ok, "problems": result.problems[:20]})


# --- restore -----------------------------------------------------------------------------------

def _artifacts(backup: Backup, role: str) -> list[dict]:
    return [a for a in backup.manifest.get("artifacts") or [] if a["role"] == role]


def _checked_stream(backup: Backup, entry: dict) -> Iterator[bytes]:
    """An artifact's content that raises at the end when any hash differs (verify ran
    first, so this only catches a change made in between)."""
    digest = artifact.Digest()
    yield from read_artifact(backup, entry, digest)
    result = artifact.compare(entry, digest)
    if not result.ok:
        raise BackupRefused(f"{entry['file']} changed during the restore: {'; '.join(result.problems)}")


def _restore_volume(client, backup: Backup, entry: dict, name: str, *, overwrite: bool, progress) -> None:
    exists = engine.volume_exists(client, name)
    if exists and not overwrite:
        raise PermanentEngineError(f"Volume {name} exists: restoring into it overwrites it (confirm overwrite, admins only).")
    if not exists:
        original = entry.get("volume") or {}
        engine_resources.create_volume(client, name, "local", None, original.get("labels") or None)
        progress.log(f"Created volume {name}")
    image = ensure_helper_image(client)
    engine.extract_into_volume(client, image, name, _checked_stream(backup, entry), labels=HELPER_LABELS, clear=exists)
    progress.log(f"Restored {entry['content_size']} bytes into volume {name}{' (overwritten)' if exists else ''}")


def restore_volume(client, restore: Restore, progress) -> dict:
    """The full backup, then (for an incremental one) every increment of its chain in order."""
    from .incremental import apply_increment, chain

    full, *increments = chain(restore.backup)
    _restore_volume(client, full, _artifacts(full, "volume")[0], restore.target_name, overwrite=restore.overwrite,
                    progress=progress)
    for increment in increments:
        apply_increment(client, ensure_helper_image(client), increment, restore.target_name, HELPER_LABELS, progress)
    return {"volume": restore.target_name, "replayed": len(increments)}


def restore_image(client, restore: Restore, progress) -> dict:
    entry = _artifacts(restore.backup, "image")[0]
    engine_resources.load_image(client, _checked_stream(restore.backup, entry))
    progress.log(f"Loaded image {entry['image']['ref']}")
    return {"image": entry["image"]["ref"]}


def restore_container(client, restore: Restore, progress) -> dict:
    from apps.containers.lifecycle import create_from_plan
    from apps.containers.sync import refresh_container

    backup, host = restore.backup, restore.host
    spec = json.loads(b"".join(_checked_stream(backup, _artifacts(backup, "container")[0])))
    plan = create_spec.CreatePlan(**spec["plan"])
    plan.name = restore.target_name
    for entry in _artifacts(backup, "volume"):
        _restore_volume(client, backup, entry, entry["volume"]["name"], overwrite=restore.overwrite, progress=progress)
    for entry in _artifacts(backup, "commit"):
        engine_resources.load_image(client, _checked_stream(backup, entry))
        plan.body["Image"] = entry["image"]["ref"]
        progress.log(f"Loaded the committed file system as {entry['image']['ref']}")
    if not engine_resources.image_exists(client, plan.body["Image"]):
        raise PermanentEngineError(f"Image {plan.body['Image']} is not on host {host.name}: restore an image backup or pull it first.")
    existing = _container_named(client, plan.name)
    if existing and not restore.overwrite:
        raise PermanentEngineError(f"A container named {plan.name} exists: choose a new name, or overwrite (admins only).")
    if existing:
        engine_lifecycle.remove(client, existing, force=True)
        progress.log(f"Removed the existing {plan.name}")
    new_id = create_from_plan(client, host, plan, progress, start=spec["running"])
    row = refresh_container(host, new_id, client=client)
    return {"container": row.pk if row else None, "docker_id": new_id}


def _container_named(client, name: str) -> str | None:
    try:
        return engine_lifecycle.inspect_container(client, name)["Id"]
    except EngineObjectNotFound:
        return None


def restore_stack(client, restore: Restore, progress) -> dict:
    return _stacks().restore_stack(client, restore, progress)


RESTORERS = {Backup.Kind.VOLUME: restore_volume, Backup.Kind.CONTAINER: restore_container, Backup.Kind.IMAGE: restore_image,
             Backup.Kind.STACK: restore_stack}


def perform_restore(op, progress) -> dict:
    restore = Restore.objects.select_related("backup", "backup__team", "host").get(pk=op.params["restore"])
    backup = restore.backup
    try:
        progress.log("Verifying the backup before restoring anything")
        from .incremental import chain

        for member in chain(backup):  # an incremental backup needs every backup it builds on
            result = check(member, progress)
            _record_verify(member, result)
            if not result.ok:
                raise BackupRefused("The backup failed verification; nothing was restored:\n" + "\n".join(result.problems))
        progress.progress(0.4)
        client = client_for(restore.host, timeout=settings.BACKUP_ENGINE_TIMEOUT)
        try:
            outcome = RESTORERS[backup.kind](client, restore, progress)
        finally:
            client.close()
    except BaseException as exc:
        restore.status, restore.error, restore.finished_at = Restore.Status.FAILED, str(exc)[:5000], timezone.now()
        restore.save(update_fields=["status", "error", "finished_at"])
        raise
    restore.status, restore.finished_at = Restore.Status.COMPLETED, timezone.now()
    restore.save(update_fields=["status", "finished_at"])
    events.publish("backup.restored", backup.team_id, host=restore.host, target=events.ref("backup", backup, str(backup)),
                   summary=f"Restored {backup.kind} {backup.target_name} into {restore.target_name}", url=backup_url(backup))
    return {"restore": restore.pk, **outcome}


# --- a backup from its files alone (a fresh installation) ----------------------------------------

def import_backup(user, team, folder: str, storage: str = "local", storage_target=None) -> Backup:
    """Register a backup folder found in storage (e.g. copied from another installation) from its
    manifest; MANAGE. Verify (with the imported key) before restoring it. `storage_target`: the
    team's StorageTarget the folder is in (then `storage` is its kind)."""
    authorize(user, team.pk, Action.MANAGE)
    from .storage import get_storage

    if storage_target is not None:
        if storage_target.team_id != team.pk:
            raise ValidationError({"storage_target": ["Choose a storage target of this team."]})
        storage = storage_target.kind
    store = get_storage(storage, storage_target)
    try:
        manifest = json.loads(store.read_bytes(f"{folder}/{MANIFEST}"))
        assert manifest.get("format") == MANIFEST_FORMAT
    except (OSError, ValueError, AssertionError) as exc:
        raise ValidationError({"folder": [f"No DockerForge backup manifest there: {exc}"]}) from None
    enc = manifest.get("encryption") or {}
    parent = None
    if manifest.get("mode") == Backup.Mode.INCREMENTAL:  # its chain must be here first
        parent = Backup.objects.filter(team=team, uuid=manifest.get("parent")).first()
        if parent is None:
            raise ValidationError({"folder": [f"This incremental backup builds on backup {manifest.get('parent')}: import that one first."]})
    return Backup.objects.create(
        team=team, kind=manifest["kind"], target_name=manifest["source"]["name"], status=Backup.Status.COMPLETED,
        mode=manifest.get("mode") or Backup.Mode.FULL, parent=parent, base_id=(parent.base_id or parent.pk) if parent else None,
        storage=storage, storage_target=storage_target, folder=folder, encrypted=bool(enc), key_id=enc.get("key_id", ""), manifest=manifest,
        size=sum(a["stored_size"] for a in manifest["artifacts"]), content_size=sum(a["content_size"] for a in manifest["artifacts"]),
        finished_at=timezone.now(),
    )


PERFORMERS = {"backup.create": perform_backup, "backup.verify": perform_verify, "backup.restore": perform_restore}


def perform(op, progress) -> dict:
    return PERFORMERS[op.kind](op, progress)
