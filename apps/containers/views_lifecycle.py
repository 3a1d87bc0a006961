"""Lifecycle pages: the actions panel on the container page, create, edit and duplicate
(through the recreate service), and bulk actions. Every change goes through lifecycle's
request_* services (403 for viewers before any validation; other teams' rows are 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from apps.core.api import user_may
from apps.core.querysets import team_ids_for
from apps.core.registries import Panel, panels
from apps.core.roles import Action
from apps.engine.errors import EngineError
from apps.hosts.services import client_for

from . import create_spec, lifecycle
from .forms import ContainerCreateForm, ContainerDuplicateForm, ContainerEditForm
from .models import Container
from .recreate import plan_for_container

ACTION_OPTIONS = {"stop": ("timeout",), "restart": ("timeout",), "kill": ("signal",), "remove": ("force", "volumes"), "rename": ("name",)}
BOOLEAN_OPTIONS = ("force", "volumes")
# A page waits for inspect: keep it short (a bounded read in the request).
INSPECT_TIMEOUT = 5.0


def _container(request, pk) -> Container:
    return get_object_or_404(Container.objects.for_user(request.user, Action.VIEW).present().select_related("host"), pk=pk)


def _require_operate(request, team_id) -> None:
    if not user_may(request.user, team_id, Action.OPERATE):
        raise PermissionDenied("Your role in this team does not allow changing containers.")


def _op_url(op) -> str:
    return reverse("activity:operation_detail", args=[op.pk])


# --- the actions panel ---------------------------------------------------------------------

def render_actions_panel(request, container, *, op=None, error: str = "") -> str | None:
    if container is None or not user_may(request.user, container.team_id, Action.OPERATE):
        return None  # viewers get no buttons (and 403 if they post anyway)
    context = {"container": container, "op": op, "error": error}
    return render_to_string("containers/_container_actions.html", context, request=request)


def register_panels() -> None:
    panels.add("container_detail", Panel(order=10, name="lifecycle_actions", title="Actions", render=render_actions_panel))


def _options(request, action: str) -> dict:
    opts = {}
    for key in ACTION_OPTIONS.get(action, ()):
        if key in BOOLEAN_OPTIONS:
            opts[key] = request.POST.get(key) in ("1", "on", "true")
        elif request.POST.get(key, "") != "":
            opts[key] = request.POST[key]
    return opts


@login_required
@require_POST
def container_action(request, pk, action):
    container = _container(request, pk)
    _require_operate(request, container.team_id)  # 403 before looking at the input
    try:
        op = lifecycle.request_action(request.user, container, action, **_options(request, action))
    except ValidationError as exc:
        error = "; ".join(exc.messages)
        if request.htmx:
            return render(request, "containers/_container_actions.html", {"container": container, "error": error}, status=400)
        messages.error(request, error)
        return redirect(request.META.get("HTTP_REFERER") or reverse("activity:operations"))
    if request.htmx:
        return render(request, "containers/_container_actions.html", {"container": container, "op": op})
    messages.success(request, f"{action.capitalize()} of {container.name} started.")
    return redirect(_op_url(op))


# --- create / edit / duplicate -------------------------------------------------------------

def _form_page(request, form, *, mode: str, container=None, engine_error: str = ""):
    context = {"nav": "containers", "form": form, "mode": mode, "container": container, "engine_error": engine_error}
    return render(request, "containers/container_form.html", context, status=400 if (form is not None and form.errors) else 200)


@login_required
def container_create(request):
    if not request.team or not user_may(request.user, request.team.pk, Action.OPERATE):
        raise PermissionDenied("Your role in this team does not allow creating containers.")
    form = ContainerCreateForm(request.POST or None, user=request.user, team=request.team, initial={"restart_policy": "no"})
    if request.method == "POST" and form.is_valid():
        try:
            op = lifecycle.request_create(request.user, form.cleaned_data["host"], form.spec_data())
        except ValidationError as exc:
            form.add_spec_errors(exc)
        else:
            messages.success(request, "Creating the container.")
            return redirect(_op_url(op))
    return _form_page(request, form, mode="create")


def _current_spec(container) -> tuple[dict | None, str]:
    """The container's spec as form text, or the engine's error."""
    client = None
    try:
        client = client_for(container.host, timeout=INSPECT_TIMEOUT)
        plan = plan_for_container(client, container.docker_id, where=f"host {container.host.name}")
    except EngineError as exc:
        return None, str(exc)
    finally:
        if client is not None:
            client.close()
    return create_spec.friendly_from_plan(plan), ""


def _spec_page(request, pk, *, mode: str, form_class, submit):
    container = _container(request, pk)
    _require_operate(request, container.team_id)
    initial, engine_error = _current_spec(container)
    if initial is None:
        return _form_page(request, None, mode=mode, container=container, engine_error=engine_error)
    if mode == "duplicate":
        initial["name"] = f"{container.name}-copy"
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            op = submit(container, form)
        except ValidationError as exc:
            form.add_spec_errors(exc)
        else:
            messages.success(request, f"{'Recreating' if mode == 'edit' else 'Copying'} {container.name}.")
            return redirect(_op_url(op))
    return _form_page(request, form, mode=mode, container=container)


@login_required
def container_edit(request, pk):
    def submit(container, form):
        changes = form.spec_data(only_changed=True)
        return lifecycle.request_recreate(request.user, container, changes, health_seconds=form.cleaned_data.get("health_seconds"))

    return _spec_page(request, pk, mode="edit", form_class=ContainerEditForm, submit=submit)


@login_required
def container_duplicate(request, pk):
    def submit(container, form):
        return lifecycle.request_duplicate(request.user, container, form.spec_data(only_changed=True))

    return _spec_page(request, pk, mode="duplicate", form_class=ContainerDuplicateForm, submit=submit)


# --- bulk ----------------------------------------------------------------------------------

@login_required
@require_POST
def bulk_action(request):
    """POST action + ids: one Operation per container. Any container the user may not change
    refuses the whole request (403) before anything starts."""
    if not (request.user.is_superuser or team_ids_for(request.user, Action.OPERATE).exists()):
        raise PermissionDenied("Your role does not allow changing containers.")
    action = request.POST.get("action", "")
    raw_ids = request.POST.getlist("ids")
    containers = list(
        Container.objects.for_user(request.user, Action.VIEW).present().filter(pk__in=[i for i in raw_ids if i.isdigit()])
    )
    for container in containers:
        _require_operate(request, container.team_id)
    error = ""
    if action not in lifecycle.BULK_ACTIONS:
        error = f"Choose an action: {', '.join(lifecycle.BULK_ACTIONS)}."
    elif not containers:
        error = "Select at least one container."
    ops = [] if error else [lifecycle.request_action(request.user, c, action) for c in containers]
    if request.htmx:
        context = {"ops": ops, "action": action, "error": error}
        return render(request, "containers/_bulk_actions.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{action.capitalize()}: {len(ops)} operation(s) started.")
    return redirect(request.META.get("HTTP_REFERER") or reverse("activity:operations"))


lifecycle_urlpatterns = [
    path("new/", container_create, name="create"),
    path("bulk/", bulk_action, name="bulk_action"),
    path("<int:pk>/edit/", container_edit, name="edit"),
    path("<int:pk>/duplicate/", container_duplicate, name="duplicate"),
    path("<int:pk>/action/<str:action>/", container_action, name="action"),
]
