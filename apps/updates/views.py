"""Pages: the team's updates (checks, runs, windows, dry-run), one run, the about page; and
the container page's POST actions (check, update, rollback). Queries go through for_user."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.containers.models import Container
from apps.core.api import user_may
from apps.core.roles import Action

from . import runs, services
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
