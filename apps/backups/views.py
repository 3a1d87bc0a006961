"""Backup pages: list (start a backup, schedules), detail (manifest, verify, restore), key export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.api import user_may
from apps.core.htmx import render_page
from apps.core.roles import Action
from apps.hosts.models import DockerHost

from . import keys, portable, schedules, services
from .forms import BackupForm, ImportForm, RestoreForm, ScheduleForm, StorageTargetForm
from .models import Backup, BackupSchedule, StorageTarget
from .storage import check_target


def _errors_into(form, exc: ValidationError) -> None:
    for name, errors in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)


def _op_redirect(op):
    return redirect("activity:operation_detail", op.pk)


@login_required
def backup_list(request):
    team = request.team
    backups = Backup.objects.for_user(request.user).select_related("host", "storage_target")
    backups = backups.filter(team=team) if team else backups.none()
    form = BackupForm(request.POST or None, user=request.user, team=team)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            op = services.request_backup(request.user, d["host"], d["kind"], d["target"], encrypt=d["encrypt"],
                                         include_volumes=d["include_volumes"], commit=d["commit"],
                                         incremental=d["incremental"], storage_target=d["storage_target"])
            return _op_redirect(op)
        except ValidationError as exc:
            _errors_into(form, exc)
    ctx = {
        "nav": "backups", "backups": backups[:200], "form": form, "import_form": ImportForm(user=request.user, team=team),
        "schedules": BackupSchedule.objects.for_user(request.user).filter(team=team) if team else [],
        "targets": StorageTarget.objects.for_user(request.user).filter(team=team) if team else [],
        "can_operate": bool(team) and user_may(request.user, team.pk, Action.OPERATE),
        "can_manage": bool(team) and user_may(request.user, team.pk, Action.MANAGE),
    }
    return render_page(request, "backups/backup_list.html", ctx, partial="rows", status=400 if form.errors else 200)


def _backup(request, pk) -> Backup:
    return get_object_or_404(Backup.objects.for_user(request.user, Action.VIEW).select_related("host"), pk=pk)


@login_required
def backup_detail(request, pk):
    backup = _backup(request, pk)
    form = RestoreForm(request.POST or None, user=request.user, team=backup.team)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            restore = services.request_restore(request.user, backup, d["host"], d["target"], overwrite=d["overwrite"])
            return _op_redirect(restore.operation)
        except ValidationError as exc:
            _errors_into(form, exc)
    ctx = {"nav": "backups", "backup": backup, "form": form, "restores": backup.restores.select_related("host")[:50],
           "drill_hosts": DockerHost.objects.for_user(request.user, Action.OPERATE).filter(team=backup.team_id),
           "can_operate": user_may(request.user, backup.team_id, Action.OPERATE),
           "can_manage": user_may(request.user, backup.team_id, Action.MANAGE)}
    return render(request, "backups/backup_detail.html", ctx, status=400 if form.errors else 200)


@login_required
@require_POST
def backup_verify(request, pk):
    """Verify (with an optional restore drill on a chosen host of the team)."""
    backup = _backup(request, pk)
    services.authorize(request.user, backup.team_id)  # the role first, then the input
    host = None
    if request.POST.get("host"):
        host = DockerHost.objects.for_user(request.user, Action.OPERATE).filter(team=backup.team_id, pk=request.POST["host"]
                                                                                 if request.POST["host"].isdigit() else 0).first()
        if host is None:
            messages.error(request, "Choose a host of the backup's team for the drill.")
            return redirect("backups:detail", backup.pk)
    try:
        return _op_redirect(services.request_verify(request.user, backup, drill=bool(request.POST.get("drill")), host=host))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("backups:detail", backup.pk)


@login_required
def backup_import(request):
    """Import an exported backup file into the current team (admins)."""
    team = request.team
    if not team or not user_may(request.user, team.pk, Action.MANAGE):
        raise PermissionDenied("Only team admins may import backups.")
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user, team=team)
    if request.method == "POST" and form.is_valid():
        try:
            d = form.cleaned_data
            backup = portable.import_file(request.user, team, d["file"], d["key"], storage_target=d["storage_target"])
            messages.success(request, f"Imported the {backup.kind} backup of {backup.target_name}; every hash checked.")
            return redirect("backups:detail", backup.pk)
        except ValidationError as exc:
            _errors_into(form, exc)
    return render(request, "backups/backup_import.html", {"nav": "backups", "form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def key_export(request):
    if not request.team or not user_may(request.user, request.team.pk, Action.MANAGE):
        raise PermissionDenied("Only team admins may export the backup key.")
    key = keys.active_key(request.team)
    from apps.activity.audit import record_action

    record_action("backup.key_export", key, {"key_id": key.key_id})
    response = HttpResponse(keys.export(key), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="dockerforge-backup-key-{key.key_id}.json"'
    return response


@login_required
def schedule_form(request, pk=None):
    team = request.team
    if not team or not user_may(request.user, team.pk, Action.MANAGE):
        raise PermissionDenied("Only team admins manage backup schedules.")
    schedule = get_object_or_404(BackupSchedule.objects.for_user(request.user, Action.MANAGE), pk=pk) if pk else None
    form = ScheduleForm(request.POST or None, instance=schedule, user=request.user, team=team)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        obj.team = team
        obj.save()
        schedules.sync_periodic_task(obj)
        messages.success(request, f"Schedule {obj.name} saved.")
        return redirect("backups:list")
    return render(request, "backups/schedule_form.html", {"nav": "backups", "form": form, "schedule": schedule},
                  status=400 if form.errors else 200)


# --- storage targets (admins manage them; every member sees the list, never a secret) ----------

def _manage_team(request):
    team = request.team
    if team is None:
        raise Http404("No team selected.")
    if not user_may(request.user, team.pk, Action.MANAGE):
        raise PermissionDenied("Only team admins manage storage targets.")
    return team


def _target(request, pk) -> StorageTarget:
    return get_object_or_404(StorageTarget.objects.for_user(request.user, Action.VIEW), pk=pk)


@login_required
def target_form(request, pk=None):
    """Create or edit a storage target; htmx gets the form partial (400 with field errors)."""
    team = _manage_team(request)
    target = get_object_or_404(StorageTarget.objects.for_user(request.user, Action.MANAGE), pk=pk, team=team) if pk else None
    form = StorageTargetForm(request.POST or None, instance=target or StorageTarget(team=team))
    back = reverse("backups:list") + "#storage-targets"
    ctx = {"nav": "backups", "form": form, "target": target, "back": back}
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        text = f"Storage target {saved.name} saved."
        messages.success(request, text)
        if request.htmx:
            response = render_page(request, "backups/target_form.html", {**ctx, "notice": text}, partial="form")
            response["HX-Redirect"] = back
            return response
        return redirect(back)
    return render_page(request, "backups/target_form.html", ctx, partial="form", status=400 if form.errors else 200)


@login_required
@require_POST
def target_delete(request, pk):
    target = _target(request, pk)
    if not user_may(request.user, target.team_id, Action.MANAGE):
        raise PermissionDenied("Only team admins manage storage targets.")
    if target.backups.exists() or target.schedules.exists():
        messages.error(request, f"Backups or schedules use {target.name}: it is kept.")
    else:
        target.delete()
        messages.success(request, f"Storage target {target.name} deleted.")
    return redirect(reverse("backups:list") + "#storage-targets")


@login_required
@require_POST
def target_check(request, pk):
    """Reach the target now and say how it went (htmx: the result in place)."""
    target = _target(request, pk)
    if not user_may(request.user, target.team_id, Action.MANAGE):
        raise PermissionDenied("Only team admins check storage targets.")
    error = check_target(target)
    if request.htmx:
        return render(request, "backups/_target_check.html", {"target": target, "error": error})
    if error:
        messages.error(request, f"{target.name}: {error}")
    else:
        messages.success(request, f"{target.name}: reachable.")
    return redirect(reverse("backups:list") + "#storage-targets")
