"""Validation of channels and routes, shared by the portal forms, the API and the admin.
Every rule raises ValidationError with a dict of field errors (never a 500)."""

from __future__ import annotations

import json
import re
import secrets as secrets_module

from django.core.exceptions import ValidationError

from .channels import TransportError, channel_type, validate_headers
from .models import SEVERITIES, Channel, Route
from .routing import GROUP_FIELDS

NAME_MAX = 100
SECRET_FIELDS = ("url", "password", "signing_secret", "headers")
KIND_PATTERN = re.compile(r"^[a-z0-9_*?\[\]-]+(\.[a-z0-9_*?\[\]-]+)*$")
LIST_MAX = 50
DAY = 24 * 3600


def parse_header_lines(text: str) -> dict[str, str]:
    """"Name: value" lines (forms) -> dict."""
    headers = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValidationError({"headers": f"{line.strip()[:40]!r}: write headers as 'Name: value'."})
        headers[name.strip()] = value.strip()
    return headers


def validate_channel(data: dict, *, team, instance: Channel | None = None) -> dict:
    """Return the model values for a channel. `data` has name, kind, enabled, rate_limit,
    rate_burst, config (dict) and the secrets (url, password, signing_secret, headers as a
    dict); a secret left blank on an existing channel keeps the stored one."""
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = ["This field is required."]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"At most {NAME_MAX} characters."]
    elif team is not None and Channel.objects.filter(team=team, name=name).exclude(pk=getattr(instance, "pk", None)).exists():
        errors["name"] = ["This team already has a channel with this name."]
    kind = data.get("kind") or (instance.kind if instance else "")
    try:
        ctype = channel_type(kind)
    except TransportError:
        raise ValidationError({**errors, "kind": [f"Unknown channel type {kind!r}."]}) from None
    for field in ("rate_limit", "rate_burst"):
        value = data.get(field) or 0
        if not isinstance(value, int) or not 0 <= value <= 10000:
            errors[field] = ["Enter a whole number between 0 and 10000."]
    if errors:
        raise ValidationError(errors)
    secrets = _merged_secrets(data, instance, ctype)
    config = ctype.clean(dict(data.get("config") or {}), secrets)  # raises field errors
    if kind == "webhook" and not secrets["signing_secret"]:
        secrets["signing_secret"] = secrets_module.token_urlsafe(32)
    return {"name": name, "kind": kind, "enabled": bool(data.get("enabled", True)), "config": config,
            "rate_limit": data.get("rate_limit") or 0, "rate_burst": data.get("rate_burst") or 0, **secrets}


def _merged_secrets(data: dict, instance: Channel | None, ctype) -> dict:
    out = {}
    for field in SECRET_FIELDS:
        if field not in ctype.secret_fields:
            out[field] = ""
            continue
        value = data.get(field)
        if field == "headers":
            if value in (None, "", {}):
                out[field] = instance.headers if instance else ""
                continue
            if not isinstance(value, dict):
                raise ValidationError({"headers": ["Enter an object of header names to values."]})
            value = {str(k).strip(): str(v) for k, v in value.items()}
            validate_headers(value)
            out[field] = json.dumps(value)
            continue
        value = str(value or "").strip()
        if len(value) > 2000:
            raise ValidationError({field: ["At most 2000 characters."]})
        out[field] = value or (getattr(instance, field) if instance else "")
    return out


def _string_list(value, field: str, pattern=None) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in re.split(r"[,\n]", value)]
    if not isinstance(value, list | tuple):
        raise ValidationError({field: ["Enter a list."]})
    items = [str(v).strip() for v in value if str(v).strip()]
    if len(items) > LIST_MAX:
        raise ValidationError({field: [f"At most {LIST_MAX} entries."]})
    for item in items:
        if len(item) > 200 or (pattern is not None and not pattern.match(item)):
            raise ValidationError({field: [f"{item[:50]!r} is not a valid entry."]})
    return items


def parse_label_lines(text) -> dict:
    if isinstance(text, dict):
        return {str(k).strip(): str(v).strip() for k, v in text.items()}
    labels = {}
    for line in re.split(r"[,\n]", text or ""):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValidationError({"labels": [f"{line.strip()[:40]!r}: write labels as key=value."]})
        labels[key.strip()] = value.strip()
    return labels


def validate_route(data: dict, *, team, instance: Route | None = None) -> dict:
    """Return the model values of a route (channels as a list of Channel of `team`)."""
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = ["This field is required."]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"At most {NAME_MAX} characters."]
    elif team is not None and Route.objects.filter(team=team, name=name).exclude(pk=getattr(instance, "pk", None)).exists():
        errors["name"] = ["This team already has a route with this name."]
    values: dict = {"name": name}
    for field, pattern in (("kinds", KIND_PATTERN), ("hosts", None)):
        try:
            values[field] = _string_list(data.get(field) or [], field, pattern)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        labels = parse_label_lines(data.get("labels") or {})
        if len(labels) > LIST_MAX or any(len(k) > 200 or len(v) > 200 for k, v in labels.items()):
            raise ValidationError({"labels": ["Too many or too long labels."]})
        values["labels"] = labels
    except ValidationError as exc:
        errors.update(exc.message_dict)
    group_by = data.get("group_by") or []
    if isinstance(group_by, str):
        group_by = [g.strip() for g in group_by.split(",") if g.strip()]
    if not isinstance(group_by, list | tuple) or any(g not in GROUP_FIELDS for g in group_by):
        errors["group_by"] = [f"Choose among {', '.join(GROUP_FIELDS)}."]
    else:
        values["group_by"] = list(dict.fromkeys(group_by))
    for field in ("min_severity", "quiet_bypass_severity"):
        value = data.get(field) or ("info" if field == "min_severity" else "critical")
        if value not in SEVERITIES:
            errors[field] = [f"Choose among {', '.join(SEVERITIES)}."]
        values[field] = value
    digest_below = data.get("digest_below") or ""
    if digest_below and digest_below not in SEVERITIES:
        errors["digest_below"] = [f"Choose among {', '.join(SEVERITIES)}, or leave blank."]
    values["digest_below"] = digest_below
    for field, high in (("group_wait", DAY), ("group_interval", DAY), ("repeat_interval", 30 * DAY)):
        value = data.get(field)
        if value in ("", None):
            values[field] = None
        elif not isinstance(value, int) or not 0 <= value <= high:
            errors[field] = [f"Enter seconds between 0 and {high}, or leave blank for the default."]
        else:
            values[field] = value
    digest_interval = data.get("digest_interval") or 60
    if not isinstance(digest_interval, int) or not 1 <= digest_interval <= 24 * 60:
        errors["digest_interval"] = ["Enter minutes between 1 and 1440."]
    values["digest_interval"] = digest_interval
    order = data.get("order") if data.get("order") is not None else 100
    if not isinstance(order, int) or not 0 <= order <= 100000:
        errors["order"] = ["Enter a number between 0 and 100000."]
    values["order"] = order
    start, end = data.get("quiet_start"), data.get("quiet_end")
    if (start is None) != (end is None):
        errors["quiet_end" if start is not None else "quiet_start"] = ["Set both ends of the quiet hours, or neither."]
    values.update(quiet_start=start, quiet_end=end, enabled=bool(data.get("enabled", True)), stop=bool(data.get("stop", False)))
    channels = list(data.get("channels") or [])
    if team is not None and any(c.team_id != team.pk for c in channels):
        errors["channels"] = ["Choose channels of this team."]
    values["channels"] = channels
    if errors:
        raise ValidationError(errors)
    return values
