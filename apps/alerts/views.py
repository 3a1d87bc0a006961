"""Alert pages: the live list (refreshed on df:event), detail with ack, rules, silences."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.core.api import user_may
from apps.core.htmx import render_page
from apps.core.registries import panels
from apps.core.roles import Action

from . import state
from .forms import RuleForm, SilenceForm
from .models import Alert, AlertRule, Silence

STATUS_FILTERS = ("open", "firing", "pending", "resolved", "all")


def _require(request, action: str):
    team = request.team
    if not team or not user_may(request.user, team.pk, action):
        raise PermissionDenied("Your role in this team does not allow this action.")
    return team


@login_required
def alert_list(request):
    team = request.team
    status = request.GET.get("status", "open")
    status = status if status in STATUS_FILTERS else "open"
    alerts = Alert.objects.for_user(request.user).select_related("rule", "host", "acknowledged_by")
    alerts = alerts.filter(team=team) if team else alerts.none()
    if status == "open":
        alerts = alerts.open()
    elif status != "all":
        alerts = alerts.filter(status=status)
    ctx = {"nav": "alerts", "alerts": alerts[:300], "status": status, "statuses": STATUS_FILTERS,
           "can_operate": bool(team) and user_may(request.user, team.pk, Action.OPERATE)}
    return render_page(request, "alerts/alert_list.html", ctx, partial="rows")


def _alert(request, pk, action=Action.VIEW) -> Alert:
    return get_object_or_404(Alert.objects.for_user(request.user, action).select_related("rule", "host"), pk=pk)


@login_required
def alert_detail(request, pk):
    alert = _alert(request, pk)
    ctx = {"nav": "alerts", "alert": alert, "can_operate": user_may(request.user, alert.team_id, Action.OPERATE),
           "panels": panels.for_page("alert_detail")}  # later apps' panels (the AI chat)
    return render_page(request, "alerts/alert_detail.html", ctx, partial="state")


@login_required
@require_POST
def alert_ack(request, pk):
    alert = _alert(request, pk)
    if not user_may(request.user, alert.team_id, Action.OPERATE):
        raise PermissionDenied("Operators and admins acknowledge alerts.")
    if state.acknowledge(alert, request.user):
        messages.success(request, "Alert acknowledged.")
    return redirect("alerts:detail", alert.pk)


@login_required
def rule_list(request):
    team = request.team
    rules = AlertRule.objects.for_user(request.user).filter(team=team) if team else AlertRule.objects.none()
    ctx = {"nav": "alerts", "rules": rules.select_related("host", "container"),
           "can_manage": bool(team) and user_may(request.user, team.pk, Action.MANAGE)}
    return render(request, "alerts/rule_list.html", ctx)


@login_required
def rule_form(request, pk=None):
    team = _require(request, Action.MANAGE)
    rule = get_object_or_404(AlertRule.objects.for_user(request.user, Action.MANAGE), pk=pk, team=team) if pk else None
    form = RuleForm(request.POST or None, instance=rule, team=team)
    if request.method == "POST" and form.is_valid():
        rule = form.save()
        messages.success(request, f"Rule {rule.name} saved.")
        return redirect("alerts:rules")
    return render(request, "alerts/rule_form.html", {"nav": "alerts", "form": form, "rule": rule},
                  status=400 if form.errors else 200)


@login_required
def silence_list(request):
    team = request.team
    silences = Silence.objects.for_user(request.user).filter(team=team) if team else Silence.objects.none()
    can_operate = bool(team) and user_may(request.user, team.pk, Action.OPERATE)
    form = SilenceForm(request.POST or None, team=team) if can_operate else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Operators and admins create silences.")
        if form.is_valid():
            silence = form.save(commit=False)
            silence.created_by = request.user
            silence.save()
            messages.success(request, f"Silence until {silence.ends_at:%Y-%m-%d %H:%M} UTC created.")
            return redirect("alerts:silences")
    ctx = {"nav": "alerts", "silences": silences.select_related("rule", "host")[:200], "form": form, "now": timezone.now(),
           "can_operate": can_operate}
    return render(request, "alerts/silence_list.html", ctx, status=400 if form is not None and form.errors else 200)


@login_required
@require_POST
def silence_expire(request, pk):
    silence = get_object_or_404(Silence.objects.for_user(request.user, Action.VIEW), pk=pk)
    if not user_may(request.user, silence.team_id, Action.OPERATE):
        raise PermissionDenied("Operators and admins end silences.")
    silence.ends_at = timezone.now()
    silence.save()
    return redirect("alerts:silences")
