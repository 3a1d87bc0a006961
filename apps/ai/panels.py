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


def register() -> None:
    panels.add("container_detail", Panel(70, "ai", "AI analysis", container_panel))
    panels.add("team_settings", Panel(60, "ai", "AI provider", settings_panel))
