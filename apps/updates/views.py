"""Pages: the team's updates (checks, runs, windows, dry-run), one run, the about page; and
the container page's POST actions (check, update, rollback). Queries go through for_user."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.containers.models import Container
from apps.core.api import user_may
from apps.core.htmx import render_page
from apps.core.roles import Action

from . import runs, services
from .forms import PolicyForm, WindowForm
from .models import UpdateCheck, UpdatePolicy, UpdateRun, UpdateWindow
from .version import version_info


def _team_rows(request, model):
    rows = model.objects.for_user(request.user)
    return rows.filter(team=request.team) if request.team else rows.none()


@login_required
def update_list(request):
    team = request.team
    return render(request, "updates/update_list.html", {
        "nav": "updates",
        "checks": _team_rows(request, UpdateCheck).select_related("container").filter(container__removed_at__isnull=True)[:300],
        "runs": _team_rows(request, UpdateRun).select_related("created_by")[:50],
        "windows": _team_rows(request, UpdateWindow),
        "policies": _team_rows(request, UpdatePolicy).select_related("container"),
        "plan": runs.plan(team) if team else [],
        "in_window": runs.in_window(team) if team else None,
        "can_operate": bool(team) and user_may(request.user, team.pk, Action.OPERATE),
    })


@login_required
def run_detail(request, pk):
    run = get_object_or_404(UpdateRun.objects.for_user(request.user).select_related("operation", "container"), pk=pk)
    return render(request, "updates/run_detail.html", {"nav": "updates", "run": run})


@login_required
def about(request):
    return render(request, "updates/about.html", {"info": version_info()})


def _container(request, pk) -> Container:
    return get_object_or_404(Container.objects.for_user(request.user), pk=pk)


def _back(container):
    return redirect("containers:detail", container.pk)


@login_required
@require_POST
def check_container(request, pk):
    container = _container(request, pk)
    services.request_check(request.user, container.team, container)  # PermissionDenied -> 403
    messages.success(request, f"Checking {container.name} for updates.")
    return _back(container)


@login_required
@require_POST
def update_container(request, pk):
    container = _container(request, pk)
    try:
        op = runs.request_update(request.user, container, target=request.POST.get("target", ""),
                                 override=request.POST.get("override") == "1")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(container)
    messages.success(request, f"Updating {container.name} (operation {op.pk}).")
    return _back(container)


@login_required
@require_POST
def rollback(request, pk):
    run = get_object_or_404(UpdateRun.objects.for_user(request.user), pk=pk)
    try:
        op = runs.request_rollback(request.user, run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("updates:run_detail", run.pk)
    messages.success(request, f"Rolling {run.container_name} back (operation {op.pk}).")
    return redirect("updates:run_detail", run.pk)


# --- policies and windows (admins: "policies, schedules, settings" in the role table) ---------

def _require_manage(request, team_id: int) -> None:
    if not user_may(request.user, team_id, Action.MANAGE):
        raise PermissionDenied("Only team admins change update policies and windows.")


def _saved(request, text: str, back: str, template: str, context: dict):
    """After a save: the form partial with a notice for htmx (and HX-Redirect back), else a redirect."""
    messages.success(request, text)  # shown on the page we go back to
    if request.htmx:
        response = render_page(request, template, {**context, "notice": text}, partial="form")
        response["HX-Redirect"] = back
        return response
    return redirect(back)


@login_required
def policy_form(request, pk=None):
    """The update policy of one container (pk) or the team default (no pk)."""
    container = _container(request, pk) if pk else None
    team = container.team if container else request.team
    if team is None:
        raise Http404("No team selected.")
    _require_manage(request, team.pk)  # 403 before validation
    rows = UpdatePolicy.objects.for_user(request.user, Action.MANAGE)
    policy = (rows.filter(container=container) if container else rows.filter(team=team, container__isnull=True)).first()
    form = PolicyForm(request.POST or None, instance=policy or UpdatePolicy(team=team, container=container))
    back = reverse("containers:detail", args=[container.pk]) if container else reverse("accounts:team_settings")
    context = {"nav": "containers" if container else "team", "form": form, "container": container, "team": team, "back": back,
               "inherits": container is not None and policy is None}
    if request.method == "POST" and form.is_valid():
        form.save()
        what = container.name if container else "the team default"
        return _saved(request, f"Update policy of {what} saved.", back, "updates/policy_form.html", context)
    return render_page(request, "updates/policy_form.html", context, partial="form", status=400 if form.errors else 200)


@login_required
@require_POST
def policy_reset(request, pk):
    """Drop a container's own policy: it follows the team default again."""
    container = _container(request, pk)
    _require_manage(request, container.team_id)
    UpdatePolicy.objects.for_user(request.user, Action.MANAGE).filter(container=container).delete()
    messages.success(request, f"{container.name} follows the team's default update policy again.")
    return redirect("containers:detail", container.pk)


@login_required
def window_form(request, pk=None):
    team = request.team
    if team is None:
        raise Http404("No team selected.")
    _require_manage(request, team.pk)
    window = get_object_or_404(UpdateWindow.objects.for_user(request.user, Action.MANAGE), pk=pk, team=team) if pk else None
    form = WindowForm(request.POST or None, instance=window or UpdateWindow(team=team), team=team)
    back = reverse("accounts:team_settings")
    context = {"nav": "team", "form": form, "window": window, "team": team, "back": back}
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        return _saved(request, f"Update window {saved.name} saved.", back, "updates/window_form.html", context)
    return render_page(request, "updates/window_form.html", context, partial="form", status=400 if form.errors else 200)


@login_required
@require_POST
def window_delete(request, pk):
    window = get_object_or_404(UpdateWindow.objects.for_user(request.user), pk=pk)
    _require_manage(request, window.team_id)
    window.delete()
    messages.success(request, f"Update window {window.name} deleted.")
    return redirect("accounts:team_settings")
