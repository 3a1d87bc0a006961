"""Panels on other apps' pages (registered from AiConfig.ready())."""

from django.template.loader import render_to_string

from apps.core.api import user_may
from apps.core.registries import Panel, panels
from apps.core.roles import Action


def container_panel(request, container):
    from .models import Analysis, FixProposal

    if container is None:
        return None
    latest = Analysis.objects.filter(team_id=container.team_id, container=container).order_by("-created_at").first()
    proposed = FixProposal.objects.filter(team_id=container.team_id, container=container, status=FixProposal.Status.PROPOSED)
    return render_to_string("ai/_container_panel.html", {
        "container": container, "analysis": latest, "can_operate": user_may(request.user, container.team_id, Action.OPERATE),
        "proposed_fixes": list(proposed[:5]),
    }, request=request)


def settings_panel(request, team):
    from .forms import AISettingsForm
    from .models import AIProviderSettings

    if team is None or not user_may(request.user, team.pk, Action.MANAGE):
        return None
    current = AIProviderSettings.objects.filter(team=team).first()
    return render_to_string("ai/_settings_panel.html", {
        "ai_form": AISettingsForm(instance=current), "current": current, "team": team,
    }, request=request)


def _chat_panel(request, obj, *, start_url: str, **target):
    from . import chat
    from .models import Conversation

    rows = list(Conversation.objects.for_user(request.user, Action.VIEW).filter(**target).order_by("-updated_at", "-id")[:6])
    current = rows[0] if rows else None
    return render_to_string("ai/_chat_panel.html", {
        "conversation": current, "others": rows[1:], "chat_messages": chat.shown(current) if current else [],
        "can_send": chat.may_send(request.user, obj.team_id), "start_url": start_url,
    }, request=request)


def container_chat_panel(request, container):
    from django.urls import reverse

    if container is None:
        return None
    return _chat_panel(request, container, start_url=reverse("ai:chat_start_container", args=[container.pk]), container=container)


def alert_chat_panel(request, alert):
    from django.urls import reverse

    if alert is None:
        return None
    return _chat_panel(request, alert, start_url=reverse("ai:chat_start_alert", args=[alert.pk]), alert=alert)


def register() -> None:
    panels.add("container_detail", Panel(70, "ai", "AI analysis", container_panel))
    panels.add("container_detail", Panel(75, "ai_chat", "AI chat", container_chat_panel))
    panels.add("alert_detail", Panel(50, "ai_chat", "AI chat", alert_chat_panel))
    panels.add("team_settings", Panel(60, "ai", "AI provider", settings_panel))
