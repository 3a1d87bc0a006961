"""Messages: rendered from Django templates per event kind (text, HTML email, Slack text),
carrying the evidence and a link back to the portal object.

Templates are looked up most specific first: notifications/messages/<kind>.<ext>, then the
kind's family (<family>.<ext>, e.g. "alert"), then default.<ext>. A rendered message is a
plain dict stored on the Delivery, so retries resend exactly what was rendered; folding
(rate limits) merges several into one.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import select_template

from .models import SEVERITIES, severity_rank

SLACK_MAX_BLOCKS = 50
SLACK_TEXT_MAX = 2900  # a section's text is limited to 3000 characters
MAX_EVENTS_IN_MESSAGE = 200


def absolute_url(url: str) -> str:
    if not url:
        return ""
    if url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL + ("" if url.startswith("/") else "/") + url


def _templates(kind: str, ext: str) -> list[str]:
    family = kind.split(".", 1)[0]
    return [f"notifications/messages/{kind}.{ext}", f"notifications/messages/{family}.{ext}",
            f"notifications/messages/default.{ext}"]


def render(kind: str, ext: str, context: dict) -> str:
    return select_template(_templates(kind, ext)).render(context).strip()


def _event_view(envelope: dict) -> dict:
    """What templates use of an envelope (plus the absolute link)."""
    data = envelope.get("data") or {}
    return {**envelope, "link": absolute_url(envelope.get("url", "")), "data": data,
            "evidence": data.get("evidence") or [], "rule": data.get("rule") or {}}


def build(*, group_labels: dict, firing: list[dict], resolved: list[dict], events: list[dict], route_name: str = "",
          digest: bool = False, test: bool = False) -> dict:
    """One message for one flush of one group. Lists hold envelopes (the latest per alert)."""
    everything = firing + resolved + events
    kind = everything[0]["kind"] if everything else "test"
    severity = max((e.get("severity", "info") for e in firing + events), key=severity_rank, default="info")
    status = "firing" if firing else ("resolved" if resolved else "event")
    context = {
        "kind": kind, "severity": severity, "status": status, "digest": digest, "test": test,
        "group": group_labels, "route": route_name, "site_url": settings.SITE_URL,
        "firing": [_event_view(e) for e in firing[:MAX_EVENTS_IN_MESSAGE]],
        "resolved": [_event_view(e) for e in resolved[:MAX_EVENTS_IN_MESSAGE]],
        "events": [_event_view(e) for e in events[:MAX_EVENTS_IN_MESSAGE]],
        "omitted": max(0, len(everything) - MAX_EVENTS_IN_MESSAGE),
        "count": len(everything),
    }
    link = _primary_link(everything)
    context["link"] = link
    subject = " ".join(render(kind, "subject.txt", context).split())[:250]
    slack_text = render(kind, "slack.txt", context)
    part = {"subject": subject, "status": status, "severity": severity, "group": group_labels, "url": link,
            "events": [_trim(e) for e in everything[:MAX_EVENTS_IN_MESSAGE]], "count": len(everything)}
    return {
        "subject": subject,
        "text": render(kind, "txt", context),
        "html": render(kind, "html", context),
        "blocks": slack_blocks(subject, slack_text, link, severity),
        "severity": severity,
        "status": status,
        "url": link,
        "test": test,
        "notifications": [part],
        "event_count": len(everything),
    }


def _primary_link(envelopes: list[dict]) -> str:
    for env in envelopes:
        if env.get("url"):
            return absolute_url(env["url"])
    return settings.SITE_URL + "/"


def _trim(envelope: dict) -> dict:
    """Envelopes as they go out in webhook bodies (the internal stored-row id stays in)."""
    return {k: envelope.get(k) for k in ("id", "kind", "severity", "team", "host", "target", "occurred_at", "summary", "url", "data")}


def slack_escape(text: str) -> str:
    """Slack mrkdwn: only &, < and > are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_blocks(subject: str, text: str, link: str, severity: str) -> list[dict]:
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": subject[:150] or "DockerForge", "emoji": False}}]
    chunk = text
    while chunk and len(blocks) < SLACK_MAX_BLOCKS - 2:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk[:SLACK_TEXT_MAX]}})
        chunk = chunk[SLACK_TEXT_MAX:]
    context = f"Severity: *{severity}*"
    if link:
        context += f" · <{link}|Open in DockerForge>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return blocks


def fold(messages: list[dict]) -> dict:
    """Several messages as one (what a rate-limited channel sends when a token frees up):
    every notification is kept, nothing is lost."""
    if len(messages) == 1:
        return messages[0]
    parts = [part for m in messages for part in m.get("notifications", [])]
    total = sum(m.get("event_count", 0) for m in messages)
    severity = max((m.get("severity", "info") for m in messages), key=severity_rank, default="info")
    subject = f"{len(messages)} notifications ({total} events), held back by the channel's rate limit"
    text = "\n\n".join(f"== {m.get('subject', '')}\n{m.get('text', '')}" for m in messages)
    html = "<hr>".join(m.get("html", "") for m in messages)
    slack_text = "\n".join(f"• {slack_escape(m.get('subject', ''))}" for m in messages)
    link = messages[0].get("url", "")
    return {
        "subject": subject, "text": text, "html": html,
        "blocks": slack_blocks(subject, slack_text, link, severity),
        "severity": severity, "status": "folded", "url": link, "test": False,
        "notifications": parts, "event_count": total,
    }


def test_message(channel_name: str, user_name: str) -> dict:
    envelope = {"kind": "notifications.test", "severity": "info", "team": None, "host": None, "target": None,
                "occurred_at": "", "summary": f"Test notification for channel {channel_name}, sent by {user_name}.",
                "url": "/notifications/channels/", "data": {}}
    return build(group_labels={}, firing=[], resolved=[], events=[envelope], test=True)


__all__ = ["build", "fold", "test_message", "absolute_url", "slack_escape", "SEVERITIES"]
