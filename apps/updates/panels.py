"""Panels on other apps' pages (registered from UpdatesConfig.ready()): the container page's
update status, the dashboard's list of containers with updates, and the team settings'
section (default policy, auto-update windows)."""

from django.template.loader import render_to_string

from apps.core.api import user_may
from apps.core.registries import Panel, panels
from apps.core.roles import Action

DASHBOARD_ROWS = 10


def container_panel(request, container):
    from .checks import policy_for
    from .models import UpdateCheck, UpdatePolicy, UpdateRun
    from .runs import last_update

    if container is None:
        return None
    check = UpdateCheck.objects.filter(container=container).first()
    runs = UpdateRun.objects.filter(team_id=container.team_id, container_name=container.name, host_id=container.host_id)[:5]
    last = last_update(container)
    return render_to_string("updates/_container_panel.html", {
        "container": container, "check": check, "runs": runs, "policy": policy_for(container),
        "rollback": last if last is not None and last.status == UpdateRun.Status.SUCCEEDED else None,
        "can_operate": user_may(request.user, container.team_id, Action.OPERATE),
        "can_manage": user_may(request.user, container.team_id, Action.MANAGE),
        "own_policy": UpdatePolicy.objects.filter(container=container).exists(),
    }, request=request)


def dashboard_panel(request, _obj=None):
    from .models import UpdateCheck
    from .version import check_release_feed

    team = getattr(request, "team", None)
    if not team:
        return None
    rows = UpdateCheck.objects.for_user(request.user).filter(team=team, status=UpdateCheck.Status.AVAILABLE, container__removed_at__isnull=True)
    return render_to_string("updates/_dashboard_panel.html", {
        "count": rows.count(), "rows": rows.select_related("container")[:DASHBOARD_ROWS], "feed": check_release_feed(),
    }, request=request)


def settings_panel(request, team):
    """Team settings: the default policy and the auto-update windows (read by all, edited by admins)."""
    from .models import UpdatePolicy, UpdateWindow

    if team is None:
        return None
    return render_to_string("updates/_settings_panel.html", {
        "team": team, "may_manage": user_may(request.user, team.pk, Action.MANAGE),
        "default": UpdatePolicy.objects.for_user(request.user).filter(team=team, container__isnull=True).first(),
        "windows": UpdateWindow.objects.for_user(request.user).filter(team=team),
    }, request=request)


def register() -> None:
    panels.add("container_detail", Panel(55, "updates", "Updates", container_panel))
    panels.add("dashboard", Panel(40, "updates", "Image updates", dashboard_panel))
    panels.add("team_settings", Panel(50, "updates", "Image updates", settings_panel))
