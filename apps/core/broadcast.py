"""Pushes to the team's live channel. Payloads carry kind and ids only: browsers re-fetch
partials over HTTP so permission checks stay in the views."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def team_group(team_id) -> str:
    return f"team.{team_id}"


def object_group(kind: str, object_id) -> str:
    return f"obj.{kind}.{object_id}"


def send_now(group: str, payload: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "push", "payload": payload})
    except Exception:  # noqa: BLE001 - live updates are best effort; the page still reloads
        logger.warning("broadcast to %s failed", group, exc_info=True)


def broadcast(group: str, payload: dict) -> None:
    """Send after the current transaction commits, so receivers read committed rows."""
    transaction.on_commit(lambda: send_now(group, payload))


def broadcast_to_team(team_id, payload: dict) -> None:
    broadcast(team_group(team_id), payload)
