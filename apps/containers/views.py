"""Mirror pages: lists (search, filters, sort, pages, bulk-action checkboxes) and detail
pages of containers, images, volumes and networks. One view and one template per page;
htmx asks for `page.html#rows` / `#live` when the team socket reports a change.

Everything shown here is the mirror (readable while a host is down, flagged stale) except
`top` and the revealed environment, which are bounded live reads with a short timeout.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from apps.activity.audit import record_action
from apps.activity.models import Event
from apps.core.api import user_may
from apps.core.htmx import render_page
from apps.core.registries import panels
from apps.core.roles import Action
from apps.engine.errors import EngineError
from apps.hosts.models import DockerHost

from . import lifecycle, sync, tables
from .filters import ContainerFilter, ImageFilter, NetworkFilter, VolumeFilter
from .models import Container, Image, Network, Volume

PAGE_SIZE = 50
RECENT_EVENTS = 20
HEAD_PANEL_ORDER = 20
LIVE_READ_TIMEOUT = 5.0


def _team_rows(request, queryset):
    """Pages follow the team switcher: rows of the current team the user may read."""
    qs = queryset.for_user(request.user, Action.VIEW)
    return qs.filter(team=request.team) if request.team else qs.none()


def _may_operate(request) -> bool:
    """Whether the user may change things in the current team (operator and up)."""
    return bool(request.team) and user_may(request.user, request.team.pk, Action.OPERATE)


def _down_hosts(request) -> list[DockerHost]:
    if not request.team:
        return []
    return list(DockerHost.objects.for_user(request.user).filter(team=request.team).exclude(status=DockerHost.Status.UP))


def _mirror_list(request, *, queryset, filterset_class, columns, template: str, nav: str, extra=None):
    filterset = filterset_class(request.GET, queryset=_team_rows(request, queryset), request=request)
    rows = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": nav,
        # Links to the pages that change things show only to roles that may use them.
        "can_operate": _may_operate(request),
        "filter": filterset,
        "page": page,
        "rows": page.object_list,
        "headers": tables.headers(request.GET, columns),
        "query": query.urlencode(),
        "filtered": bool(request.GET),
        "down_hosts": _down_hosts(request),
        **(extra or {}),
    }
    return render_page(request, template, context, partial="rows")


@login_required
def container_list(request):
    from django.urls import NoReverseMatch, reverse

    try:  # the lifecycle slice implements the bulk endpoint; without it, no checkboxes
        bulk_url = reverse("containers:bulk_action")
    except NoReverseMatch:
        bulk_url = ""
    can_operate = _may_operate(request)
    return _mirror_list(
        request,
        queryset=Container.objects.select_related("host").defer("inspect"),
        filterset_class=ContainerFilter,
        columns=tables.CONTAINER_COLUMNS,
        template="containers/container_list.html",
        nav="containers",
        extra={"bulk_url": bulk_url if can_operate else "", "bulk_actions": BULK_ACTIONS},
    )


BULK_ACTIONS = tuple((action, action.capitalize()) for action in lifecycle.BULK_ACTIONS)


@login_required
def image_list(request):
    return _mirror_list(request, queryset=Image.objects.select_related("host").defer("inspect"), filterset_class=ImageFilter,
                        columns=tables.IMAGE_COLUMNS, template="containers/image_list.html", nav="images")


@login_required
def volume_list(request):
    return _mirror_list(request, queryset=Volume.objects.select_related("host"), filterset_class=VolumeFilter,
                        columns=tables.VOLUME_COLUMNS, template="containers/volume_list.html", nav="volumes")


@login_required
def network_list(request):
    return _mirror_list(request, queryset=Network.objects.select_related("host"), filterset_class=NetworkFilter,
                        columns=tables.NETWORK_COLUMNS, template="containers/network_list.html", nav="networks")


# --- detail pages ----------------------------------------------------------------------------

def _object(request, model, pk):
    """An object of a team the user belongs to; others answer 404."""
    return get_object_or_404(model.objects.for_user(request.user, Action.VIEW).select_related("host"), pk=pk)


def _recent_events(request, kind: str, obj) -> list[Event]:
    qs = Event.objects.for_user(request.user).filter(team_id=obj.team_id, target_kind=kind, target_id=str(obj.pk))
    return list(qs[:RECENT_EVENTS])


def _detail(request, *, kind: str, obj, template: str, nav: str, extra=None):
    page_panels = panels.for_page(f"{kind}_detail")
    context = {
        "nav": nav,
        "obj": obj,
        kind: obj,
        "stale": obj.host.status != DockerHost.Status.UP,
        "events": _recent_events(request, kind, obj),
        # Actions (order < 20) sit under the head and refresh with the state; the rest follow the page.
        "head_panels": [p for p in page_panels if p.order < HEAD_PANEL_ORDER],
        "panels": [p for p in page_panels if p.order >= HEAD_PANEL_ORDER],
        "can_operate": user_may(request.user, obj.team_id, Action.OPERATE),
        "labels": sorted((obj.labels or {}).items()),
        **(extra or {}),
    }
    return render_page(request, template, context, partial="live")


@login_required
def container_detail(request, pk):
    container = _object(request, Container, pk)
    inspect = container.inspect or {}
    state = inspect.get("State") or {}
    extra = {
        "inspect_json": json.dumps(inspect, indent=2, sort_keys=True, default=str),
        "env": [line.partition("=")[0] for line in ((inspect.get("Config") or {}).get("Env") or [])],
        "health_log": list(reversed((state.get("Health") or {}).get("Log") or [])),
        "restart_policy": (inspect.get("HostConfig") or {}).get("RestartPolicy") or {},
    }
    return _detail(request, kind="container", obj=container, template="containers/container_detail.html",
                   nav="containers", extra=extra)


@login_required
def container_top(request, pk):
    """htmx: the processes table, read live (short timeout); errors say why."""
    container = _object(request, Container, pk)
    top, error = None, ""
    if container.is_removed:
        error = "The container was removed."
    elif container.state not in (Container.State.RUNNING, Container.State.PAUSED):
        error = "The container is not running."
    else:
        try:
            top = sync.read_top(container, timeout=LIVE_READ_TIMEOUT)
        except EngineError as exc:
            error = str(exc)
    return render(request, "containers/_container_top.html", {"container": container, "top": top, "error": error})


@login_required
def container_env(request, pk):
    """GET: variable names, values masked. POST (operators): values read live from the engine
    (the mirror never stores them), audited."""
    container = _object(request, Container, pk)
    can_operate = user_may(request.user, container.team_id, Action.OPERATE)
    context = {"container": container, "can_operate": can_operate, "revealed": False, "error": "",
               "env_names": [line.partition("=")[0] for line in ((container.inspect or {}).get("Config") or {}).get("Env") or []]}
    if request.method == "POST":
        if not can_operate:
            raise PermissionDenied("Only operators and admins may reveal environment values.")
        try:
            context["env"] = sync.read_env(container, timeout=LIVE_READ_TIMEOUT)
            context["revealed"] = True
            record_action("reveal_env", container, {"variables": [k for k, _ in context["env"]]})
        except EngineError as exc:
            context["error"] = str(exc)
    return render(request, "containers/_container_env.html", context)


@login_required
def image_detail(request, pk):
    image = _object(request, Image, pk)
    used_by = _team_rows(request, Container.objects.defer("inspect")).filter(host_id=image.host_id, image_id=image.docker_id)
    extra = {"inspect_json": json.dumps(image.inspect or {}, indent=2, sort_keys=True, default=str),
             "used_by": list(used_by[:100])}
    return _detail(request, kind="image", obj=image, template="containers/image_detail.html", nav="images", extra=extra)


@login_required
def volume_detail(request, pk):
    volume = _object(request, Volume, pk)
    used_by = [c for c in _team_rows(request, Container.objects.defer("inspect")).filter(host_id=volume.host_id, removed_at__isnull=True)
               if any(m.get("name") == volume.name for m in c.mounts or [])]
    return _detail(request, kind="volume", obj=volume, template="containers/volume_detail.html", nav="volumes",
                   extra={"used_by": used_by})


@login_required
def network_detail(request, pk):
    network = _object(request, Network, pk)
    attached = sorted((network.attached or {}).items(), key=lambda kv: (kv[1] or {}).get("name", ""))
    return _detail(request, kind="network", obj=network, template="containers/network_detail.html", nav="networks",
                   extra={"attached": attached})
