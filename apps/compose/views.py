"""Stack pages: list, detail with the live graph, operations, editor, .env editor (admins),
logs, versions and templates. Permission checks live in the services and querysets."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.api import user_may
from apps.core.htmx import render_page
from apps.core.roles import Action
from apps.hosts.models import DockerHost

from . import catalogue, cli, files, graph, services
from .forms import DeployForm, EditForm, EnvForm, StackForm
from .models import ComposeProject, ComposeTemplate


def _project(request, pk) -> ComposeProject:
    return get_object_or_404(ComposeProject.objects.for_user(request.user, Action.VIEW).select_related("host"), pk=pk)


def _form_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@login_required
def stack_list(request):
    projects = ComposeProject.objects.for_user(request.user).select_related("host")
    projects = projects.filter(team=request.team) if request.team else projects.none()
    hosts = DockerHost.objects.for_user(request.user).filter(team=request.team) if request.team else DockerHost.objects.none()
    can_manage = bool(request.team) and user_may(request.user, request.team.pk, Action.MANAGE)
    return render_page(request, "compose/stack_list.html",
                       {"nav": "stacks", "projects": projects, "hosts": hosts, "can_manage": can_manage}, partial="rows")


@login_required
@require_POST
def discover(request, host_pk):
    host = get_object_or_404(DockerHost.objects.for_user(request.user), pk=host_pk)
    try:
        found = services.request_discover(request.user, host)
        messages.success(request, f"{len(found)} stack(s) on {host.name}.")
    except Exception as exc:  # noqa: BLE001 - engine errors are shown, not raised
        messages.error(request, f"Discovery on {host.name} failed: {exc}")
    return redirect("compose:list")


@login_required
def stack_create(request):
    if not request.team:
        raise PermissionDenied("Join or create a team first.")
    services.require(request.user, request.team.pk, Action.MANAGE)
    form = StackForm(request.POST or None, user=request.user, team=request.team)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            project = services.create_project(request.user, data["host"], data["name"], data["compose"], data["env"])
            messages.success(request, f"Stack {project.name} created.")
            return redirect("compose:detail", pk=project.pk)
        except ValidationError as exc:
            _form_errors(form, exc)
    return render(request, "compose/stack_form.html", {"nav": "stacks", "form": form}, status=400 if form.errors else 200)


def _service_rows(request, project, data) -> list[tuple[str, list]]:
    """[(service, its present containers)] for the services table (links to container pages)."""
    from apps.containers.models import Container

    names = sorted(set(project.services) | set((data or {}).get("services") or {}))
    rows = Container.objects.for_user(request.user, Action.VIEW).filter(
        host_id=project.host_id, compose_project=project.name).present().defer("inspect").order_by("name")
    by_service: dict[str, list] = {}
    for c in rows:
        by_service.setdefault(c.compose_service, []).append(c)
    return [(name, by_service.get(name, [])) for name in names]


def _detail_context(request, project) -> dict:
    data, _ = services.parsed(project)
    return {
        "nav": "stacks", "project": project, "graph": graph.build(project, data),
        "services": _service_rows(request, project, data),
        "can_operate": user_may(request.user, project.team_id, Action.OPERATE),
        "can_manage": user_may(request.user, project.team_id, Action.MANAGE),
        "versions": project.versions.all()[:20],
    }


@login_required
def stack_detail(request, pk):
    return render(request, "compose/stack_detail.html", _detail_context(request, _project(request, pk)))


@login_required
def stack_graph(request, pk):
    """The graph alone: re-fetched on `df:event`, so node states follow the engine."""
    project = _project(request, pk)
    data, _ = services.parsed(project)
    return render(request, "compose/_graph.html", {"project": project, "graph": graph.build(project, data)})


@login_required
@require_POST
def stack_operate(request, pk, action):
    project = _project(request, pk)
    try:
        op = services.request_operation(
            request.user, project, action, service=request.POST.get("service", ""),
            pull=bool(request.POST.get("pull")), build=bool(request.POST.get("build")), volumes=bool(request.POST.get("volumes")))
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
        return redirect("compose:detail", pk=project.pk)
    except cli.ComposeCLIMissing as exc:
        messages.error(request, str(exc))
        return redirect("compose:detail", pk=project.pk)
    return redirect("activity:operation_detail", pk=op.pk)


@login_required
@require_POST
def stack_take_over(request, pk):
    project = _project(request, pk)
    try:
        services.take_over(request.user, project)
        messages.success(request, f"Stack {project.name} is now managed by DockerForge.")
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    return redirect("compose:detail", pk=project.pk)


@login_required
def stack_edit(request, pk):
    project = _project(request, pk)
    services.require(request.user, project.team_id, Action.MANAGE)
    text, _ = services.read_files(project)
    form = EditForm(request.POST or None, initial={"compose": text})
    if request.method == "POST" and form.is_valid():
        try:
            version = services.save_files(request.user, project, form.cleaned_data["compose"], None, form.cleaned_data["comment"])
            messages.success(request, f"Saved version {version.number}. Run “up” to deploy it.")
            return redirect("compose:detail", pk=project.pk)
        except ValidationError as exc:
            _form_errors(form, exc)
    current = form.data.get("compose", text) if form.is_bound else text
    return render(request, "compose/stack_edit.html", {
        "nav": "stacks", "project": project, "form": form,
        "diff": services.diff_against_deployed(project, current),
    }, status=400 if form.errors else 200)


@login_required
def stack_env(request, pk):
    """The .env editor: team admins only; values are shown masked and kept when untouched."""
    project = _project(request, pk)
    services.require(request.user, project.team_id, Action.MANAGE)
    text, env_text = services.read_files(project)
    form = EnvForm(request.POST or None, initial={"env": files.mask_env(env_text)})
    if request.method == "POST" and form.is_valid():
        try:
            version = services.save_files(request.user, project, text, form.cleaned_data["env"], form.cleaned_data["comment"] or ".env edited")
            messages.success(request, f"Saved version {version.number}.")
            return redirect("compose:detail", pk=project.pk)
        except ValidationError as exc:
            _form_errors(form, exc)
    return render(request, "compose/stack_env.html", {"nav": "stacks", "project": project, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def validate(request):
    """htmx: the validation panel for the text being edited (on the fly)."""
    host = None
    if request.POST.get("host", "").isdigit():
        host = DockerHost.objects.for_user(request.user).filter(pk=int(request.POST["host"])).first()
    project_name = request.POST.get("project", "")
    env_text = ""
    if request.POST.get("project_id", "").isdigit():
        project = ComposeProject.objects.for_user(request.user).filter(pk=int(request.POST["project_id"])).first()
        if project:
            host, project_name = project.host, project.name
            env_text = services.read_files(project)[1]
    result = services.validate_for(request.user, request.POST.get("compose", ""), request.POST.get("env", env_text), host, project_name)
    return render(request, "compose/_validation.html", {"result": result})


@login_required
def stack_logs(request, pk):
    project = _project(request, pk)
    tail = request.GET.get("tail", "200")
    tail = int(tail) if tail.isdigit() else 200
    error, text = "", ""
    try:
        text = services.stack_logs(request.user, project, tail)
    except cli.ComposeError as exc:
        error = str(exc)
    return render_page(request, "compose/stack_logs.html", {"nav": "stacks", "project": project, "logs": text, "error": error, "tail": tail}, partial="logs")


@login_required
@require_POST
def stack_rollback(request, pk, number):
    project = _project(request, pk)
    version = get_object_or_404(project.versions, number=number)
    try:
        new = services.rollback(request.user, project, version)
        messages.success(request, f"Rolled back to version {number} (saved as version {new.number}). Run “up” to deploy it.")
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    return redirect("compose:detail", pk=project.pk)


@login_required
def template_list(request):
    team_templates = ComposeTemplate.objects.for_user(request.user).filter(team=request.team) if request.team else []
    return render(request, "compose/template_list.html", {"nav": "stacks", "builtin": catalogue.BUILTIN.values(), "team_templates": team_templates})


@login_required
def template_deploy(request, ref):
    if not request.team:
        raise PermissionDenied("Join or create a team first.")
    services.require(request.user, request.team.pk, Action.MANAGE)
    try:
        template = catalogue.resolve(request.user, ref)
    except ValidationError:
        return HttpResponse("No such template.", status=404)
    form = DeployForm(request.POST or None, user=request.user, team=request.team, variables=template.variables)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            project, op = catalogue.deploy(request.user, data["host"], ref, data["name"], form.variables(), up=data["up"])
            return redirect("activity:operation_detail", pk=op.pk) if op else redirect("compose:detail", pk=project.pk)
        except ValidationError as exc:
            _form_errors(form, exc)
        except cli.ComposeCLIMissing as exc:
            form.add_error(None, str(exc))
    return render(request, "compose/template_deploy.html", {"nav": "stacks", "template": template, "form": form},
                  status=400 if form.errors else 200)
