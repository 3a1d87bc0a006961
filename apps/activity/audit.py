"""Generic change logging: every create/update/delete of an audited model that a person
starts (UI, API, admin, or a task acting for a user) becomes an AuditEvent with before and
after, secrets masked. Engine-state syncs run with no person as actor and are not audited.
"""

import json

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.signals import post_delete, post_save, pre_save

from apps.core import actor as actor_ctx
from apps.core.fields import MASK

from .models import AuditEvent

# Field names whose values are secrets even when not stored in an EncryptedTextField.
SECRET_FIELD_NAMES = {"password", "key_hash", "token_hash", "secret", "api_key"}
IGNORED_FIELDS = {"updated_at", "last_login", "last_used_at"}


def is_audited(model) -> bool:
    return bool(getattr(model, "audited", False)) and model._meta.app_label != "activity"


def snapshot(instance) -> dict:
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in IGNORED_FIELDS:
            continue
        value = field.value_from_object(instance)
        if getattr(field, "is_secret", False) or field.name in SECRET_FIELD_NAMES:
            value = MASK if value else ""
        data[field.attname if field.is_relation else field.name] = value
    # Round-trip through JSON so dates, decimals and UUIDs store as the JSONField will.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def team_id_of(instance):
    Team = apps.get_model("accounts", "Team")
    if isinstance(instance, Team):
        return instance.pk
    return getattr(instance, "team_id", None)


def record(action, instance=None, *, before=None, after=None, name="", team_id=None, object_type=None, object_id=None, object_repr=None):
    actor = actor_ctx.current()
    if actor is None or actor.user_id is None:
        return None
    if instance is not None:
        object_type = object_type or instance._meta.label_lower
        object_id = object_id if object_id is not None else instance.pk
        object_repr = object_repr if object_repr is not None else str(instance)
        team_id = team_id if team_id is not None else team_id_of(instance)
    Team = apps.get_model("accounts", "Team")
    if team_id is not None and not Team.objects.filter(pk=team_id).exists():
        team_id = None  # the team itself was just deleted
    return AuditEvent.objects.create(
        team_id=team_id,
        actor_id=actor.user_id,
        actor_name=actor.username,
        via=actor.via,
        request_id=actor.request_id,
        remote_addr=actor.remote_addr,
        action=action,
        name=name,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=(object_repr or "")[:300],
        before=before,
        after=after,
    )


def record_action(name: str, instance, data: dict | None = None):
    """Audit a named action a person took on an object (e.g. "test_connection")."""
    return record(AuditEvent.Action.ACTION, instance, name=name, after=data or {})


def _pre_save(sender, instance, raw=False, **kwargs):
    if raw or not is_audited(sender) or actor_ctx.current() is None:
        return
    instance._audit_before = None
    if instance.pk is not None:
        old = sender._default_manager.filter(pk=instance.pk).first()
        instance._audit_before = snapshot(old) if old is not None else None


def _post_save(sender, instance, created, raw=False, **kwargs):
    if raw or not is_audited(sender):
        return
    before = None if created else getattr(instance, "_audit_before", None)
    after = snapshot(instance)
    if not created and before == after:
        return  # nothing a person would call a change
    record(AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE, instance, before=before, after=after)


def _post_delete(sender, instance, **kwargs):
    if not is_audited(sender):
        return
    record(AuditEvent.Action.DELETE, instance, before=snapshot(instance))


def connect():
    pre_save.connect(_pre_save, dispatch_uid="audit_pre_save")
    post_save.connect(_post_save, dispatch_uid="audit_post_save")
    post_delete.connect(_post_delete, dispatch_uid="audit_post_delete")
