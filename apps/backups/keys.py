"""Team backup keys: create on first use, export for safekeeping, import on a new installation."""

from __future__ import annotations

import base64
import json
import os
import secrets

from django.core.exceptions import ValidationError

from .models import BackupKey

EXPORT_FORMAT = "dockerforge-backup-key/1"


def active_key(team) -> BackupKey:
    key = BackupKey.objects.filter(team=team, active=True).first()
    if key is None:
        key = BackupKey.objects.create(
            team=team, key_id=f"k{team.pk}-{secrets.token_hex(6)}", secret=base64.b64encode(os.urandom(32)).decode()
        )
    return key


def raw(key: BackupKey) -> bytes:
    return base64.b64decode(key.secret)


def key_lookup(team):
    """key_for(key_id) -> bytes, for artifact.read; only the team's own keys."""

    def key_for(key_id: str) -> bytes:
        key = BackupKey.objects.filter(team=team, key_id=key_id).first()
        if key is None:
            from .artifact import ArtifactError

            raise ArtifactError(f"The artifact was encrypted with key {key_id}, which this team does not have: import it first.")
        return raw(key)

    return key_for


def export(key: BackupKey) -> str:
    return json.dumps({"format": EXPORT_FORMAT, "key_id": key.key_id, "key": key.secret})


def import_key(team, text: str) -> BackupKey:
    """Add an exported key to `team` (inactive: new backups keep using the team's own key)."""
    try:
        data = json.loads(text)
        assert data.get("format") == EXPORT_FORMAT
        key_id, secret = str(data["key_id"]), str(data["key"])
        if len(base64.b64decode(secret, validate=True)) != 32 or not key_id.isascii() or len(key_id) > 40:
            raise ValueError
    except (ValueError, AssertionError, KeyError, TypeError, AttributeError):
        raise ValidationError({"key": ["Not an exported DockerForge backup key."]}) from None
    existing = BackupKey.objects.filter(key_id=key_id).first()
    if existing is not None:
        if existing.team_id != team.pk:
            raise ValidationError({"key": ["This key belongs to another team."]})
        return existing
    return BackupKey.objects.create(team=team, key_id=key_id, secret=secret, active=not BackupKey.objects.filter(team=team).exists())
