from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.api import user_may
from apps.core.roles import Action

from . import fixes, services
from .forms import AISettingsForm
from .models import AIProviderSettings, Analysis, FixProposal


@login_required
def analysis_list(request):
    analyses = Analysis.objects.for_user(request.user, Action.VIEW).select_related("container", "host")[:100]
    return render(request, "ai/analysis_list.html", {"nav": "ai", "analyses": analyses})


@login_required
def analysis_detail(request, pk: int):
    analysis = get_object_or_404(Analysis.objects.for_user(request.user, Action.VIEW), pk=pk)
    return render(request, "ai/analysis_detail.html", {
        "nav": "ai", "analysis": analysis, "explanation": analysis.restored_explanation(),
        "steps": analysis.steps.all(), "fixes": analysis.fixes.select_related("container", "approved_by"),
        "can_operate": user_may(request.user, analysis.team_id, Action.OPERATE)})


@login_required
@require_POST
def analyse_container(request, pk: int):
    from apps.containers.models import Container

    container = get_object_or_404(Container.objects.for_user(request.user, Action.VIEW).present(), pk=pk)
    if not user_may(request.user, container.team_id, Action.OPERATE):
        raise PermissionDenied
    mode = Analysis.Mode.AGENTS if request.POST.get("agents") else Analysis.Mode.DETECTORS
    analysis = services.request_analysis(request.user, container=container, mode=mode)
    return redirect("ai:analysis_detail", analysis.pk)


def _fix_for(request, pk: int) -> FixProposal:
    fix = get_object_or_404(FixProposal.objects.for_user(request.user, Action.VIEW).select_related("container"), pk=pk)
    if not user_may(request.user, fix.team_id, Action.OPERATE):
        raise PermissionDenied
    return fix


def _back(fix: FixProposal):
    return redirect("ai:analysis_detail", fix.analysis_id) if fix.analysis_id else redirect("ai:analysis_list")


@login_required
@require_POST
def approve_fix(request, pk: int):
    fix = _fix_for(request, pk)
    try:
        fixes.request_approve(request.user, fix)
        messages.success(request, f"Fix approved: {fix.get_kind_display()} runs now.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(fix)


@login_required
@require_POST
def reject_fix(request, pk: int):
    fix = _fix_for(request, pk)
    try:
        fixes.request_reject(request.user, fix)
        messages.success(request, "Fix rejected.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(fix)


@login_required
def preview_container(request, pk: int):
    from apps.containers.models import Container

    container = get_object_or_404(Container.objects.for_user(request.user, Action.VIEW).present(), pk=pk)
    return render(request, "ai/preview.html", {"nav": "ai", "container": container, "preview": services.preview_container(container)})


@login_required
@require_POST
def save_settings(request):
    team = getattr(request, "team", None)
    if not team or not user_may(request.user, team.pk, Action.MANAGE):
        raise PermissionDenied
    current = AIProviderSettings.objects.filter(team=team).first()
    form = AISettingsForm(request.POST, instance=current or AIProviderSettings(team=team))
    if form.is_valid():
        form.save()
        messages.success(request, "AI provider settings saved.")
    else:
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    return redirect("accounts:team_settings")
