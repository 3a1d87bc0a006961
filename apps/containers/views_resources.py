"""Pages for images, volumes, networks and registry credentials, and the action panels they
add to the mirror's detail pages.

A change starts an Operation and lands on a page that streams it live (the Operation's own
stream, /ws/operations/<id>/). A role that may not act gets 403 before the form is read;
another team's object 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.activity.models import Operation
from apps.core.api import user_may
from apps.core.registries import Panel, panels
from apps.core.roles import Action
from apps.engine.errors import EngineError

from . import images, networks, volumes
from .api.resources import file_response
from .forms_resources import (
    HostOnlyForm,
    ImageBuildForm,
    ImagePruneForm,
    ImagePullForm,
    ImageRemoveForm,
    ImageTagForm,
    NetworkConnectForm,
    NetworkForm,
    RegistryCredentialForm,
    VolumeForm,
    VolumeRemoveForm,
)
from .models import Image, Network, RegistryCredential, Volume


def _require(user, team_id, action=Action.OPERATE) -> None:
    if not user_may(user, team_id, action):
        raise PermissionDenied("Your role in this team does not allow this action.")


def _team(request):
    if not request.team:
        raise PermissionDenied("Join or create a team first.")
    return request.team


def _object(request, model, pk):
    return get_object_or_404(model.objects.for_user(request.user, Action.VIEW).select_related("host"), pk=pk)


def _operation_context(request) -> dict:
    """The Operation named by ?op= (this user's teams only), for the live progress panel."""
    raw = request.GET.get("op", "")
    if not raw.isdigit():
        return {}
    op = Operation.objects.for_user(request.user).filter(pk=int(raw)).first()
    if op is None:
        return {}
    return {"op": op, "may_cancel": not op.is_finished and user_may(request.user, op.team_id, Action.OPERATE)}


def _form_page(request, form_class, template: str, *, nav: str, title: str, extra: dict | None = None, files=False, **form_kwargs):
    """GET: the form (with the last Operation's live progress); POST: start, then show it."""
    team = _team(request)
    _require(request.user, team.pk)
    data = request.POST if request.method == "POST" else None
    form = form_class(data, request.FILES if files and data is not None else None, user=request.user, team=team, **form_kwargs)
    if data is not None:
        op = form.submit()
        if op is not None:
            return redirect(f"{request.path}?op={op.pk}")
    context = {"nav": nav, "form": form, "title": title, **_operation_context(request), **(extra or {})}
    return render(request, template, context, status=400 if form.errors else 200)


def _after_operation(op) -> object:
    return redirect("activity:operation_detail", pk=op.pk)


def _object_action(request, obj, form_class, back: str, **form_kwargs):
    """POST from a detail-page panel: start the Operation and follow it; errors go back."""
    _require(request.user, obj.team_id)
    form = form_class(request.POST, user=request.user, **form_kwargs)
    op = form.submit()
    if op is None:
        for error in [*form.non_field_errors(), *[e for f in form.errors.values() for e in f]]:
            messages.error(request, error)
        return redirect(back)
    return _after_operation(op)


def _form_view(form_class, template: str, *, nav: str, title: str, files: bool = False, **form_kwargs):
    """A page with an Operation-starting form (see _form_page)."""
    @login_required
    def view(request):
        return _form_page(request, form_class, template, nav=nav, title=title, files=files, **form_kwargs)
    return view


def _action_view(model, form_class, kind: str, **form_kwargs):
    """A POST from a `kind` detail page's panel: its object through form_class (see _object_action)."""
    @login_required
    @require_POST
    def view(request, pk):
        obj = _object(request, model, pk)
        return _object_action(request, obj, form_class, reverse(f"containers:{kind}_detail", args=[pk]), **{kind: obj}, **form_kwargs)
    return view


# --- images -----------------------------------------------------------------------------------

image_pull = _form_view(ImagePullForm, "containers/image_pull.html", nav="images", title="Pull an image")
image_build = _form_view(ImageBuildForm, "containers/image_build.html", nav="images", title="Build an image", files=True)
image_prune = _form_view(ImagePruneForm, "containers/image_pull.html", nav="images", title="Prune images")
image_tag = _action_view(Image, ImageTagForm, "image")
image_remove = _action_view(Image, ImageRemoveForm, "image")


@login_required
def image_history(request, pk):
    """The history table (lazy-loaded into the image page's panel)."""
    image = _object(request, Image, pk)
    try:
        layers, error = images.image_history(image), ""
    except EngineError as exc:
        layers, error = [], str(exc)
    return render(request, "containers/_image_history.html", {"image": image, "layers": layers, "error": error})


# --- volumes ----------------------------------------------------------------------------------

volume_create = _form_view(VolumeForm, "containers/volume_form.html", nav="volumes", title="Create a volume")
volume_prune = _form_view(HostOnlyForm, "containers/volume_form.html", nav="volumes", title="Prune unused volumes",
                          service=volumes.request_prune)
volume_remove = _action_view(Volume, VolumeRemoveForm, "volume")


@login_required
def volume_browse(request, pk):
    volume = _object(request, Volume, pk)
    listing, error, status = None, "", 200
    try:
        listing = volumes.list_directory(request.user, volume, request.GET.get("path", ""))
    except ValidationError as exc:
        error, status = "; ".join(exc.messages), 400
    except EngineError as exc:
        error, status = str(exc), 502
    path = listing.path if listing else _safe_path(request.GET.get("path", ""))
    context = {"nav": "volumes", "volume": volume, "listing": listing, "error": error, "crumbs": _crumbs(path),
               "rows": [(e, listing.child(e)) for e in listing.entries] if listing else []}
    return render(request, "containers/volume_browse.html", context, status=status)


def _safe_path(path: str) -> str:
    try:
        return volumes.clean_path(path)
    except ValidationError:
        return ""


def _crumbs(path: str) -> list[tuple[str, str]]:
    """[(name, path)] from the root to `path`."""
    parts = [p for p in path.split("/") if p]
    return [(name, "/".join(parts[: i + 1])) for i, name in enumerate(parts)]


@login_required
def volume_download(request, pk):
    volume = _object(request, Volume, pk)
    try:
        name, content = volumes.read_file(request.user, volume, request.GET.get("path", ""))
    except (EngineError, ValidationError) as exc:
        messages.error(request, "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
        return redirect(reverse("containers:volume_browse", args=[pk]))
    return file_response(name, content)


# --- networks ---------------------------------------------------------------------------------

network_create = _form_view(NetworkForm, "containers/network_form.html", nav="networks", title="Create a network")
network_prune = _form_view(HostOnlyForm, "containers/network_form.html", nav="networks", title="Prune unused networks",
                           service=networks.request_prune)
network_connect = _action_view(Network, NetworkConnectForm, "network")
network_disconnect = _action_view(Network, NetworkConnectForm, "network", disconnect=True)


@login_required
@require_POST
def network_remove(request, pk):
    network = _object(request, Network, pk)
    _require(request.user, network.team_id)
    try:
        op = networks.request_remove(request.user, network)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("containers:network_detail", pk=pk)
    return _after_operation(op)


# --- registry credentials ---------------------------------------------------------------------

@login_required
def registry_list(request):
    team = _team(request)
    creds = RegistryCredential.objects.for_user(request.user).filter(team=team)
    return render(request, "containers/registry_list.html", {
        "nav": "registries", "credentials": creds, "can_manage": user_may(request.user, team.pk, Action.MANAGE)})


@login_required
def registry_create(request):
    team = _team(request)
    _require(request.user, team.pk, Action.MANAGE)
    return _registry_form(request, RegistryCredential(team=team), team)


@login_required
def registry_edit(request, pk):
    cred = _managed_credential(request, pk)
    return _registry_form(request, cred, cred.team)


def _managed_credential(request, pk) -> RegistryCredential:
    """One of this user's credentials (404 for another team's), for an admin of its team (403 otherwise)."""
    cred = get_object_or_404(RegistryCredential.objects.for_user(request.user, Action.VIEW), pk=pk)
    _require(request.user, cred.team_id, Action.MANAGE)
    return cred


def _registry_form(request, cred, team):
    form = RegistryCredentialForm(request.POST or None, instance=cred, team=team)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Saved the credential for {saved.registry}.")
        return redirect("containers:registry_list")
    return render(request, "containers/registry_form.html", {"nav": "registries", "form": form, "credential": cred if cred.pk else None},
                  status=400 if form.errors else 200)


@login_required
def registry_delete(request, pk):
    cred = _managed_credential(request, pk)
    if request.method == "POST":
        registry = cred.registry
        cred.delete()
        messages.success(request, f"Deleted the credential for {registry}.")
        return redirect("containers:registry_list")
    return render(request, "containers/registry_confirm_delete.html", {"nav": "registries", "credential": cred})


# --- panels on the mirror's detail pages --------------------------------------------------------

def _panel(template: str, kind: str):
    def render_panel(request, obj):
        if obj is None:
            raise Http404
        context = {kind: obj, "obj": obj, "can_operate": user_may(request.user, obj.team_id, Action.OPERATE)}
        if kind == "network":
            context["connect_form"] = NetworkConnectForm(user=request.user, network=obj)
            context["disconnect_form"] = NetworkConnectForm(user=request.user, network=obj, disconnect=True)
            context["builtin"] = obj.name in networks.BUILTIN
        return render_to_string(template, context, request=request)

    return render_panel


def register_panels() -> None:
    panels.add("image_detail", Panel(10, "image_actions", "Actions", _panel("containers/_image_actions.html", "image")))
    panels.add("image_detail", Panel(30, "image_history", "History", _panel("containers/_image_history_panel.html", "image")))
    panels.add("volume_detail", Panel(10, "volume_actions", "Actions", _panel("containers/_volume_actions.html", "volume")))
    panels.add("network_detail", Panel(10, "network_actions", "Actions", _panel("containers/_network_actions.html", "network")))


# --- admin actions: the same request_* services as the portal ----------------------------------

_ADMIN_SERVICES = {
    "pull": lambda user, image: images.request_pull(user, image.host, image.repo_tags[0]) if image.repo_tags else None,
    "remove_image": lambda user, image: images.request_remove(user, image),
    "remove_volume": lambda user, volume: volumes.request_remove(user, volume),
    "remove_network": lambda user, network: networks.request_remove(user, network),
}


def admin_operation_action(name: str, description: str, service: str):
    """An admin action that starts one Operation per selected row (role checked per row)."""
    from django.contrib import admin

    def run(modeladmin, request, queryset):
        started, refused = 0, []
        for obj in queryset.filter(removed_at__isnull=True).select_related("host"):
            try:
                if _ADMIN_SERVICES[service](request.user, obj) is not None:
                    started += 1
            except (PermissionDenied, ValidationError) as exc:
                refused.append(f"{obj}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
        if started:
            modeladmin.message_user(request, f"Started {started} operation(s); follow them under Operations.", messages.SUCCESS)
        for line in refused:
            modeladmin.message_user(request, line, messages.ERROR)

    run.__name__ = name
    return admin.action(description=description)(run)
