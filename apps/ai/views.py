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


def _back_to_fix(fix: FixProposal):
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
    return _back_to_fix(fix)


@login_required
@require_POST
def reject_fix(request, pk: int):
    fix = _fix_for(request, pk)
    try:
        fixes.request_reject(request.user, fix)
        messages.success(request, "Fix rejected.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back_to_fix(fix)


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


# --- chat ------------------------------------------------------------------------------------

def _conversation(request, pk: int):
    from .models import Conversation

    return get_object_or_404(Conversation.objects.for_user(request.user, Action.VIEW).select_related("alert__rule"), pk=pk)


def _back(request, fallback):
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@login_required
def conversation_detail(request, pk: int):
    from . import chat

    conversation = _conversation(request, pk)
    return render(request, "ai/conversation_detail.html", {
        "nav": "ai", "conversation": conversation, "chat_messages": chat.shown(conversation),
        "summary": conversation.redactor().restore(conversation.summary), "can_send": chat.may_send(request.user, conversation.team_id),
    })


def _start(request, **target):
    from . import chat

    obj = next(iter(target.values()))
    if not chat.may_send(request.user, obj.team_id):
        raise PermissionDenied
    conversation = chat.start(request.user, team=obj.team, **target)
    return _back_to(request, conversation)


def _back_to(request, conversation):
    from django.urls import reverse

    return _back(request, reverse("ai:conversation_detail", args=[conversation.pk]))


@login_required
@require_POST
def chat_start_container(request, pk: int):
    from apps.containers.models import Container

    return _start(request, container=get_object_or_404(Container.objects.for_user(request.user, Action.VIEW).present(), pk=pk))


@login_required
@require_POST
def chat_start_alert(request, pk: int):
    from apps.alerts.models import Alert

    return _start(request, alert=get_object_or_404(Alert.objects.for_user(request.user, Action.VIEW).select_related("rule"), pk=pk))


@login_required
@require_POST
def chat_send(request, pk: int):
    """The form without streaming: htmx gets the two new messages; a plain POST goes back."""
    from . import chat

    conversation = _conversation(request, pk)
    if not chat.may_send(request.user, conversation.team_id):
        raise PermissionDenied
    try:
        turn = chat.send(conversation, request.user, request.POST.get("content", ""))
        shown = chat.shown(conversation, [turn.question, turn.answer])
    except chat.ChatError as exc:
        if not request.htmx:
            messages.error(request, str(exc))
            return _back_to(request, conversation)
        shown = [{"role": "assistant", "content": "", "error": str(exc)}]
    if request.htmx:
        return render(request, "ai/_chat_messages.html", {"chat_messages": shown})
    return _back_to(request, conversation)
