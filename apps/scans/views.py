"""Pages: team security overview, scans and their reports, databases, policies, suppressions,
config audits and exclusions. Every query is scoped with `for_user`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.api import user_may
from apps.core.roles import Action

from . import reports, services
from .forms import AuditExclusionForm, DatabaseUploadForm, PolicyForm, SuppressionForm
from .models import AuditExclusion, ConfigAudit, Finding, Policy, Scan, Suppression, VulnerabilityDatabase


def _require(request, team_id, action) -> None:
    if not user_may(request.user, team_id, action):
        raise PermissionDenied("Your role in this team does not allow this action.")


def _team_rows(request, model):
    rows = model.objects.for_user(request.user)
    return rows.filter(team=request.team) if request.team else rows.none()


@login_required
def overview(request):
    scans = _team_rows(request, Scan).filter(status=Scan.Status.SUCCEEDED)
    latest: dict[str, Scan] = {}
    for scan in scans.order_by("-created_at")[:500]:
        latest.setdefault(scan.repo or scan.image_ref, scan)
    totals = {s: 0 for s in ("critical", "high", "medium", "low", "unknown")}
    for scan in latest.values():
        for sev, n in (scan.counts or {}).items():
            totals[sev] = totals.get(sev, 0) + n
    audits = _team_rows(request, ConfigAudit)
    top = Finding.objects.for_user(request.user).filter(scan__in=[s.pk for s in latest.values()]).unsuppressed().select_related("scan")[:20]
    dbs = _team_rows(request, VulnerabilityDatabase)
    return render(request, "scans/overview.html", {
        "nav": "security", "latest": sorted(latest.values(), key=lambda s: s.image_ref), "totals": totals, "top": top,
        "audits": audits[:10], "databases": dbs, "stale": [d for d in dbs if d.is_stale],
        "violations": [s for s in latest.values() if s.policy_results],
    })


@login_required
def scan_list(request):
    scans = _team_rows(request, Scan).select_related("host")[:200]
    return render(request, "scans/scan_list.html", {"nav": "security", "scans": scans})


def _scan(request, pk) -> Scan:
    return get_object_or_404(Scan.objects.for_user(request.user), pk=pk)


@login_required
def scan_detail(request, pk):
    scan = _scan(request, pk)
    findings = Finding.objects.for_user(request.user).filter(scan=scan).select_related("suppression")
    severity = request.GET.get("severity", "")
    if severity:
        findings = findings.filter(severity=severity)
    others = Scan.objects.for_user(request.user).filter(team_id=scan.team_id, repo=scan.repo, status=Scan.Status.SUCCEEDED).exclude(pk=scan.pk)[:20]
    return render(request, "scans/scan_detail.html", {
        "nav": "security", "scan": scan, "findings": findings[:1000], "severity": severity, "others": others,
        "packages": scan.sbom.get("packages", [])[:2000], "formats": list(reports.FORMATS),
    })


@login_required
def scan_report(request, pk, fmt):
    scan = _scan(request, pk)
    if fmt not in reports.FORMATS:
        return HttpResponse("Unknown report format.", status=404, content_type="text/plain")
    body, content_type, ext = reports.render(scan, fmt)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="scan-{scan.pk}.{ext}"'
    return response


@login_required
def scan_diff(request, pk):
    scan = _scan(request, pk)
    against = request.GET.get("against", "")
    if not against.isdigit():
        messages.error(request, "Pick a scan to compare with.")
        return redirect("scans:scan_detail", pk=scan.pk)
    other = _scan(request, int(against))
    return render(request, "scans/scan_diff.html", {"nav": "security", "scan": scan, "other": other, "diff": services.diff_scans(other, scan)})


@login_required
@require_POST
def scan_image(request, image_pk):
    from apps.containers.models import Image

    image = get_object_or_404(Image.objects.for_user(request.user).present(), pk=image_pk)
    op = services.request_scan(request.user, image)  # 403 below operator
    messages.success(request, f"Scan of {image} started.")
    return redirect("activity:operation_detail", pk=op.pk)


@login_required
@require_POST
def audit_container(request, container_pk):
    from apps.containers.models import Container

    container = get_object_or_404(Container.objects.for_user(request.user).present(), pk=container_pk)
    services.request_config_audit(request.user, container)
    messages.success(request, f"Config audit of {container.name} started.")
    return redirect("scans:audit_list")


@login_required
def audit_list(request):
    audits = _team_rows(request, ConfigAudit)[:200]
    return render(request, "scans/audit_list.html", {"nav": "security", "audits": audits})


@login_required
def audit_detail(request, pk):
    audit = get_object_or_404(ConfigAudit.objects.for_user(request.user), pk=pk)
    return render(request, "scans/audit_detail.html", {"nav": "security", "audit": audit})


@login_required
def database_list(request):
    form = DatabaseUploadForm()
    if request.method == "POST":
        if not request.team:
            raise PermissionDenied("Join or create a team first.")
        _require(request, request.team.pk, Action.MANAGE)
        form = DatabaseUploadForm(request.POST, request.FILES)
        if form.is_valid():
            services.request_import(request.user, request.team, form.cleaned_data["file"], form.cleaned_data["name"])
            messages.success(request, "Import started; open scans are re-matched when it finishes.")
            return redirect("scans:database_list")
    dbs = _team_rows(request, VulnerabilityDatabase)
    can_manage = bool(request.team) and user_may(request.user, request.team.pk, Action.MANAGE)
    return render(request, "scans/database_list.html", {"nav": "security", "databases": dbs, "form": form, "can_manage": can_manage},
                  status=400 if form.errors else 200)


def _crud_list(request, model, form_class, template, title, *, save_hook=None):
    """List the team's rows and, for admins, add one (policies, suppressions, exclusions)."""
    form = form_class()
    if request.method == "POST":
        if not request.team:
            raise PermissionDenied("Join or create a team first.")
        _require(request, request.team.pk, Action.MANAGE)
        form = form_class(request.POST)
        form.instance.team = request.team
        if form.is_valid():
            obj = form.save(commit=False)
            obj.team = request.team
            if hasattr(obj, "created_by_id"):
                obj.created_by = request.user
            obj.save()
            if save_hook:
                save_hook(request.team)
            messages.success(request, f"{title} “{obj}” saved.")
            return redirect(request.path)
    rows = _team_rows(request, model)
    can_manage = bool(request.team) and user_may(request.user, request.team.pk, Action.MANAGE)
    return render(request, template, {"nav": "security", "rows": rows, "form": form, "can_manage": can_manage, "title": title},
                  status=400 if form.errors else 200)


def _crud_delete(request, model, pk, redirect_to, *, save_hook=None):
    obj = get_object_or_404(model.objects.for_user(request.user), pk=pk)
    _require(request, obj.team_id, Action.MANAGE)
    team = obj.team
    obj.delete()
    if save_hook:
        save_hook(team)
    messages.success(request, f"“{obj}” deleted.")
    return redirect(redirect_to)


@login_required
def policy_list(request):
    return _crud_list(request, Policy, PolicyForm, "scans/crud_list.html", "Policy")


@login_required
@require_POST
def policy_delete(request, pk):
    return _crud_delete(request, Policy, pk, "scans:policy_list")


@login_required
def suppression_list(request):
    return _crud_list(request, Suppression, SuppressionForm, "scans/crud_list.html", "Suppression", save_hook=services.apply_suppressions)


@login_required
@require_POST
def suppression_delete(request, pk):
    return _crud_delete(request, Suppression, pk, "scans:suppression_list", save_hook=services.apply_suppressions)


@login_required
def exclusion_list(request):
    return _crud_list(request, AuditExclusion, AuditExclusionForm, "scans/crud_list.html", "Audit exclusion")


@login_required
@require_POST
def exclusion_delete(request, pk):
    return _crud_delete(request, AuditExclusion, pk, "scans:exclusion_list")


