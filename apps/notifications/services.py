"""The notification pipeline.

1. `route_event(envelope)`: the event-bus subscriber. Fast: match routes, upsert the group
   and item rows of the persistent notification log, and queue `notifications.flush` (ids
   only) when a group's due time moved.
2. `flush_group(group_id, now)`: Alertmanager semantics. Claims the due group with a
   conditional UPDATE, decides whether to notify (first firing, new or changed alerts,
   resolution, or repeat_interval elapsed), renders one message and queues a Delivery.
3. `deliver(delivery_id, now)`: claims a due delivery, takes a token from the channel's
   bucket (or waits; waiting deliveries are folded into the next message), sends it once,
   records the attempt, and schedules a retry with backoff for transient failures.

Everything that must survive a restart lives in rows; `now` is a parameter so tests drive
time explicitly.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.activity.audit import record_action
from apps.core.api import user_may
from apps.core.roles import Action

from . import conf, messages, routing
from .channels import TransportError
from .models import Channel, Delivery, DeliveryAttempt, NotificationGroup, NotificationItem, Route, severity_rank

logger = logging.getLogger(__name__)

HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
Status = NotificationItem.Status


def _claim_window(now: datetime) -> datetime:
    return now + timedelta(seconds=conf.get("CLAIM_SECONDS"))


def _unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


# --- 1. routing ---------------------------------------------------------------------------------

def routes_for_team(team_id: int) -> list[Route]:
    return list(
        Route.objects.filter(team_id=team_id, enabled=True)
        .prefetch_related("channels")
        .order_by("order", "name")
    )


def route_event(envelope: dict, now: datetime | None = None) -> int:
    """Subscriber of the event bus. Returns how many (route, channel) pairs took the event."""
    team_id = envelope.get("team")
    status = routing.event_status(envelope)
    if team_id is None or status is None:
        return 0
    now = now or timezone.now()
    taken = 0
    to_flush: list[tuple[int, float]] = []
    with transaction.atomic():
        for route in routes_for_team(team_id):
            if not routing.matches(route, envelope, check_severity=status != Status.RESOLVED):
                continue
            for channel in route.channels.all():
                if not channel.enabled:
                    continue
                if status == Status.RESOLVED:
                    scheduled = _resolve_item(route, channel, envelope, now)
                else:
                    scheduled = _add_item(route, channel, envelope, status, now)
                taken += 1
                if scheduled:
                    to_flush.append(scheduled)
            if route.stop:
                break
        if to_flush:
            transaction.on_commit(lambda: _queue_flushes(to_flush))
    return taken


def _queue_flushes(pairs: list[tuple[int, float]]) -> None:
    from .tasks import flush

    for group_id, delay in pairs:
        flush.apply_async((group_id,), countdown=max(0.0, delay))


def _group_for(route: Route, channel: Channel, envelope: dict) -> NotificationGroup:
    digest = routing.in_digest(route, envelope)
    key, labels = routing.group_key(route, envelope, digest)
    lookup = NotificationGroup.objects.filter(route=route, channel=channel, key=key)
    group = lookup.first()
    if group is None:
        # INSERT ... ON CONFLICT DO NOTHING: a worker racing us to create it is fine.
        NotificationGroup.objects.bulk_create(
            [NotificationGroup(team_id=route.team_id, route=route, channel=channel, key=key, labels=labels, digest=digest)],
            ignore_conflicts=True,
        )
        group = lookup.get()
    return group


def _add_item(route, channel, envelope, status, now) -> tuple[int, float] | None:
    group = _group_for(route, channel, envelope)
    fp = routing.fingerprint(envelope)
    values = {"status": status, "severity": envelope.get("severity", "info"), "envelope": envelope, "updated_at": now}
    same = NotificationItem.objects.filter(group=group, fingerprint=fp)
    # An alert firing again updates its row (deduplication); a one-off event is a new row.
    # (Losing one count to a worker racing on the same alert is harmless; the row is there.)
    if status == Status.EVENT or not same.update(count=F("count") + 1, **values):
        NotificationItem.objects.bulk_create(
            [NotificationItem(group=group, fingerprint=fp, first_at=now, **values)], ignore_conflicts=True
        )
    return _schedule(group, route, now)


def _resolve_item(route, channel, envelope, now) -> tuple[int, float] | None:
    """A resolution only updates an alert this (route, channel) holds, in whichever group."""
    fp = routing.fingerprint(envelope)
    item = NotificationItem.objects.filter(group__route=route, group__channel=channel, fingerprint=fp).select_related("group").first()
    if item is None:
        return None
    NotificationItem.objects.filter(pk=item.pk).update(status=Status.RESOLVED, envelope=envelope, updated_at=now)
    return _schedule(item.group, route, now)


def group_timings(group: NotificationGroup, route: Route) -> tuple[int, int, int]:
    """(wait, interval, repeat) in seconds; a digest collects for digest_interval."""
    if group.digest:
        every = route.digest_interval * 60
        return every, every, route.timing("repeat_interval")
    return route.timing("group_wait"), route.timing("group_interval"), route.timing("repeat_interval")


def _schedule(group: NotificationGroup, route: Route, now: datetime) -> tuple[int, float] | None:
    """Move the group's due time earlier if this change calls for it (never later).

    A group never flushed waits group_wait; afterwards, new alerts wait until group_interval
    after the last flush (Alertmanager). Returns (group id, delay) when the due time moved,
    so a flush is queued once per move rather than once per event."""
    wait, interval, _ = group_timings(group, route)
    if group.last_flushed_at is None:
        target = (group.created_at if group.created_at and group.created_at <= now else now) + timedelta(seconds=wait)
    else:
        target = max(now, group.last_flushed_at + timedelta(seconds=interval))
    moved = NotificationGroup.objects.filter(pk=group.pk).filter(
        Q(next_flush_at__isnull=True) | Q(next_flush_at__gt=target)
    ).update(next_flush_at=target)
    return (group.pk, (target - now).total_seconds()) if moved else None


# --- 2. flushing groups -------------------------------------------------------------------------

def quiet_until(route: Route, severity: str, now: datetime) -> datetime | None:
    """When the route's quiet hours (team time zone) end, if `now` falls inside them and the
    severity does not bypass them."""
    if route.quiet_start is None or route.quiet_end is None or route.quiet_start == route.quiet_end:
        return None
    if severity_rank(severity) >= severity_rank(route.quiet_bypass_severity):
        return None
    try:
        tz = ZoneInfo(route.team.time_zone)
    except Exception:  # noqa: BLE001 - a bad stored zone falls back to UTC
        tz = ZoneInfo("UTC")
    local = now.astimezone(tz)
    t, start, end = local.time(), route.quiet_start, route.quiet_end
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_dt = datetime.combine(local.date(), end, tzinfo=tz)
    if end_dt <= local:
        end_dt = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)
    return end_dt.astimezone(ZoneInfo("UTC"))


def claim_group(group_id: int, now: datetime) -> NotificationGroup | None:
    claimed = NotificationGroup.objects.filter(pk=group_id, next_flush_at__lte=now).filter(_unclaimed(now)).update(
        claimed_until=_claim_window(now), claimed_by=HOLDER
    )
    if not claimed:
        return None
    return NotificationGroup.objects.select_related("route__team", "channel").get(pk=group_id)


def flush_group(group_id: int, now: datetime | None = None) -> Delivery | None:
    """Notify for one due group, at most once, whichever worker gets there first."""
    now = now or timezone.now()
    group = claim_group(group_id, now)
    if group is None:
        return None
    try:
        with transaction.atomic():
            delivery = _flush_claimed(group, now)  # releases the claim in its last UPDATE
    except BaseException:
        NotificationGroup.objects.filter(pk=group.pk, claimed_by=HOLDER).update(claimed_until=None, claimed_by="")
        raise
    if delivery is not None:
        transaction.on_commit(lambda: _queue_delivery(delivery.pk))
    return delivery


def _flush_claimed(group: NotificationGroup, now: datetime) -> Delivery | None:
    route = group.route
    _, interval, repeat = group_timings(group, route)
    items = list(group.items.all())
    changed = [i for i in items if i.status != i.notified_status]
    # A resolution of an alert never notified as firing is nobody's news.
    silent = [i for i in changed if i.status == Status.RESOLVED and i.notified_status != Status.FIRING]
    changed = [i for i in changed if i not in silent]
    firing = [i for i in items if i.status == Status.FIRING]
    repeat_due = bool(firing) and group.last_notified_at is not None and now >= group.last_notified_at + timedelta(seconds=repeat)
    delivery = None
    if changed or repeat_due:
        severity = max((i.severity for i in changed or firing), key=severity_rank)
        until = quiet_until(route, severity, now)
        if until is not None:
            NotificationGroup.objects.filter(pk=group.pk).update(next_flush_at=until, claimed_until=None, claimed_by="")
            return None
        delivery = _create_delivery(group, route, firing, changed)
        group.last_notified_at = now
    _mark_notified(changed + silent + (firing if delivery else []), now)
    group.items.filter(status__in=(Status.RESOLVED, Status.EVENT), notified_status=F("status")).delete()
    NotificationGroup.objects.filter(pk=group.pk).update(
        last_flushed_at=now, last_notified_at=group.last_notified_at, next_flush_at=_next_due(group, now, interval, repeat),
        claimed_until=None, claimed_by="",
    )
    return delivery


def _create_delivery(group, route, firing, changed) -> Delivery:
    resolved = [i.envelope for i in changed if i.status == Status.RESOLVED]
    events = [i.envelope for i in changed if i.status == Status.EVENT]
    message = messages.build(group_labels=group.labels, firing=[i.envelope for i in firing], resolved=resolved,
                             events=events, route_name=route.name, digest=group.digest)
    return Delivery.objects.create(
        team_id=group.team_id, channel_id=group.channel_id, group=group, route=route,
        subject=message["subject"][:300], message=message, event_count=message["event_count"],
    )


def _mark_notified(items: list[NotificationItem], now: datetime) -> None:
    # Conditional on the status we rendered: an alert that changed meanwhile stays "changed".
    for item in items:
        NotificationItem.objects.filter(pk=item.pk, status=item.status).update(notified_status=item.status, notified_at=now)


def _next_due(group: NotificationGroup, now: datetime, interval: int, repeat: int) -> datetime | None:
    remaining = list(group.items.values_list("status", "notified_status"))
    if any(status != notified for status, notified in remaining):
        return now + timedelta(seconds=interval)
    if any(status == Status.FIRING for status, _ in remaining) and group.last_notified_at:
        return group.last_notified_at + timedelta(seconds=repeat)
    return None


def _queue_delivery(delivery_id: int) -> None:
    from .tasks import deliver as deliver_task

    deliver_task.delay(delivery_id)


# --- 3. delivering ------------------------------------------------------------------------------

def take_token(channel_id: int, now: datetime) -> tuple[bool, float]:
    """Token bucket: (True, 0) when a message may go now, else (False, seconds to wait)."""
    with transaction.atomic():
        ch = Channel.objects.select_for_update().only("rate_limit", "rate_burst", "bucket_tokens", "bucket_updated_at").get(pk=channel_id)
        if not ch.rate_limit:
            return True, 0.0
        capacity = ch.capacity
        per_second = ch.rate_limit / conf.get("RATE_WINDOW")
        tokens = capacity if ch.bucket_tokens is None else ch.bucket_tokens
        if ch.bucket_updated_at is not None:
            elapsed = max(0.0, (now - ch.bucket_updated_at).total_seconds())
            tokens = min(capacity, tokens + elapsed * per_second)
        ok = tokens >= 1
        if ok:
            tokens -= 1
        updated_at = max(now, ch.bucket_updated_at) if ch.bucket_updated_at else now
        Channel.objects.filter(pk=channel_id).update(bucket_tokens=tokens, bucket_updated_at=updated_at)
        return ok, 0.0 if ok else (1 - tokens) / per_second


def backoff(attempt: int) -> float:
    """Exponential from RETRY_BASE, capped, with jitter (50-100 %) so retries spread out."""
    delay = min(conf.get("RETRY_MAX_DELAY"), conf.get("RETRY_BASE") * 2 ** max(0, attempt - 1))
    return delay * random.uniform(0.5, 1.0)


def claim_delivery(delivery_id: int, now: datetime) -> Delivery | None:
    claimed = Delivery.objects.filter(pk=delivery_id, status__in=Delivery.PENDING, next_attempt_at__lte=now).filter(
        _unclaimed(now)
    ).update(status=Delivery.Status.SENDING, claimed_until=_claim_window(now))
    if not claimed:
        return None
    return Delivery.objects.select_related("channel").get(pk=delivery_id)


def _fold_waiting(delivery: Delivery, now: datetime) -> list[Delivery]:
    """Messages held back by the rate limit ride along with this one."""
    waiting = Delivery.objects.filter(
        channel_id=delivery.channel_id, status=Delivery.Status.QUEUED, attempts=0, is_test=False, folded_into__isnull=True,
    ).exclude(pk=delivery.pk).filter(_unclaimed(now)).order_by("id")
    ids = list(waiting.values_list("pk", flat=True)[:1000])
    if ids:
        Delivery.objects.filter(pk__in=ids, status=Delivery.Status.QUEUED).update(status=Delivery.Status.FOLDED, folded_into=delivery)
    return list(delivery.folded.order_by("id"))


def deliver(delivery_id: int, now: datetime | None = None) -> Delivery | None:
    """One attempt at a due delivery. Returns the delivery as it ends up, or None when it was
    not due, already taken by another worker, or done."""
    now = now or timezone.now()
    delivery = claim_delivery(delivery_id, now)
    if delivery is None:
        return None
    channel = delivery.channel
    if not delivery.is_test and channel.rate_limit:
        ok, wait = take_token(channel.pk, now)
        if not ok:
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.QUEUED if delivery.attempts == 0 else Delivery.Status.RETRYING,
                next_attempt_at=now + timedelta(seconds=wait), claimed_until=None,
            )
            return Delivery.objects.get(pk=delivery.pk)
    folded = _fold_waiting(delivery, now) if not delivery.is_test else []
    message = messages.fold([delivery.message] + [d.message for d in folded])
    return _attempt(delivery, channel, message, now, retry=not delivery.is_test)


def _send(channel: Channel, message: dict) -> tuple[int | None, TransportError | None]:
    try:
        ctype = channel.type
        ctype.check_addresses(channel)  # DNS can change between save and send
        return ctype.send(channel, message).code, None
    except TransportError as exc:
        return exc.code, exc
    except Exception as exc:  # noqa: BLE001 - a plugin's bug: retry, never log its message (may hold secrets)
        logger.error("channel type %s raised %s", channel.kind, exc.__class__.__name__)
        return None, TransportError(f"internal error in channel type {channel.kind}: {exc.__class__.__name__}")


def _attempt(delivery: Delivery, channel: Channel, message: dict, now: datetime, *, retry: bool) -> Delivery:
    started = time.perf_counter()
    code, error = _send(channel, message)
    latency = (time.perf_counter() - started) * 1000
    number = delivery.attempts + 1
    if error is None:
        outcome = DeliveryAttempt.Status.OK
    else:
        outcome = DeliveryAttempt.Status.PERMANENT if error.permanent else DeliveryAttempt.Status.TRANSIENT
    DeliveryAttempt.objects.create(
        delivery=delivery, number=number, status=outcome, response_code=code, error=error.message if error else "",
        latency_ms=latency, retry_after=error.retry_after if error else None, started_at=now,
    )
    fields = {"attempts": number, "response_code": code, "claimed_until": None, "error": error.message if error else ""}
    if error is None:
        fields.update(status=Delivery.Status.DELIVERED, delivered_at=timezone.now())
        Channel.objects.filter(pk=channel.pk).update(last_success_at=timezone.now())
    elif error.permanent or not retry or number >= conf.get("MAX_ATTEMPTS"):
        fields.update(status=Delivery.Status.FAILED)
        reason = error.message if error.permanent else f"gave up after {number} attempt(s): {error.message}"
        Channel.objects.filter(pk=channel.pk).update(last_error=reason, last_error_at=timezone.now())
    else:
        wait = error.retry_after if error.retry_after is not None else backoff(number)
        wait = min(wait, conf.get("RETRY_MAX_DELAY"))
        fields.update(status=Delivery.Status.RETRYING, next_attempt_at=now + timedelta(seconds=wait))
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    delivery.refresh_from_db()
    return delivery


# --- the periodic safety net --------------------------------------------------------------------

def flush_due(now: datetime | None = None, limit: int = 500) -> list[Delivery]:
    """Flush every due group (what runs after a restart, and what beat runs every tick)."""
    now = now or timezone.now()
    _reschedule_orphans(now)
    ids = list(
        NotificationGroup.objects.filter(next_flush_at__lte=now).filter(_unclaimed(now))
        .order_by("next_flush_at").values_list("pk", flat=True)[:limit]
    )
    return [d for d in (flush_group(pk, now) for pk in ids) if d is not None]


def _reschedule_orphans(now: datetime) -> None:
    """Groups holding un-notified items but no due time (a flush raced an event): due now."""
    pending = NotificationItem.objects.filter(group__next_flush_at__isnull=True).exclude(status=F("notified_status"))
    group_ids = set(pending.values_list("group_id", flat=True).distinct()[:500])
    if group_ids:
        NotificationGroup.objects.filter(pk__in=group_ids, next_flush_at__isnull=True).update(next_flush_at=now)


def deliver_due(now: datetime | None = None, limit: int = 500) -> list[Delivery]:
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(status__in=Delivery.PENDING, next_attempt_at__lte=now).filter(_unclaimed(now))
        .order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit]
    )
    return [d for d in (deliver(pk, now) for pk in ids) if d is not None]


# --- people's actions ---------------------------------------------------------------------------

def request_send_test(user, channel: Channel) -> Delivery:
    """"Send test" (operator+): one attempt now, no retries, recorded like any delivery."""
    if not user_may(user, channel.team_id, Action.OPERATE):
        raise PermissionDenied("Your role in this team does not allow this action.")
    message = messages.test_message(channel.name, user.get_username())
    delivery = Delivery.objects.create(
        team_id=channel.team_id, channel=channel, is_test=True, subject=message["subject"][:300], message=message,
        event_count=0, status=Delivery.Status.SENDING,
    )
    delivery = _attempt(delivery, channel, message, timezone.now(), retry=False)
    record_action("send_test", channel, {"delivery": delivery.pk, "status": delivery.status, "error": delivery.error})
    return delivery
