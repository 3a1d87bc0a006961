"""Pages and fragments for logs, the exec console and live stats; the detail-page panels.

Reads in a request are bounded (short timeout, line and byte caps); follow and exec go over
the per-container sockets in consumers.py.
"""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html

from apps.core.api import user_may
from apps.core.htmx import render_page
from apps.core.registries import Panel, panels
from apps.core.roles import Action
from apps.engine.errors import EngineError

from . import logs, stats
from .models import Container

PAGE = "container_detail"


def _container(request, pk) -> Container:
    """A container of the user's teams; others answer 404."""
    return get_object_or_404(Container.objects.for_user(request.user, Action.VIEW).select_related("host"), pk=pk)


def detail_url(container) -> str:
    try:
        return reverse("containers:detail", args=[container.pk])
    except NoReverseMatch:  # the mirror's pages are another slice; links degrade gracefully
        return ""


def _log_context(request, container, form: logs.LogFilterForm) -> dict:
    context = {"nav": "containers", "container": container, "form": form, "result": None, "error": "",
               "detail_url": detail_url(container), "timestamps": False}
    if form.is_valid():
        context["timestamps"] = form.cleaned_data.get("timestamps")
        try:
            context["result"] = logs.read_logs(container, form.query())
        except EngineError as exc:
            context["error"] = str(exc)
    return context


@login_required
def container_logs(request, pk):
    """The full logs page (filters, download, follow); htmx gets the lines only."""
    container = _container(request, pk)
    form = logs.LogFilterForm(request.GET or None)
    if not request.GET:
        form = logs.LogFilterForm({"tail": str(logs.limit("default_tail")), "stream": "all"})
    context = _log_context(request, container, form)
    # htmx swaps only 2xx answers: errors travel inside the fragment there.
    status = 200 if request.htmx else 400 if form.errors else 502 if context["error"] else 200
    return render_page(request, "containers/container_logs.html", context, partial="log_lines", status=status)


def _download_name(container) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", container.name or container.short_id).strip("._") or "container"
    return f"{safe[:80]}-logs.txt"


@login_required
def container_logs_download(request, pk):
    """The log as a text file, streamed from the engine (all lines unless `tail` says)."""
    container = _container(request, pk)
    form = logs.LogFilterForm(request.GET or {"tail": "all"}, default_tail=None)
    if not form.is_valid():
        context = {"nav": "containers", "container": container, "form": form, "result": None, "error": "",
                   "detail_url": detail_url(container), "timestamps": False}
        return render(request, "containers/container_logs.html", context, status=400)
    response = StreamingHttpResponse(logs.download_lines(container, form.query()), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_download_name(container)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def container_stats(request, pk):
    """The stats fragment the detail page polls."""
    container = _container(request, pk)
    return render(request, "containers/_stats.html", _stats_context(container))


def _stats_context(container, load: bool = True) -> dict:
    context = {"container": container, "stats": None, "error": "", "running": container.state == Container.State.RUNNING}
    if load and context["running"] and not container.is_removed:
        try:
            context["stats"] = stats.read_stats(container)
        except EngineError as exc:
            context["error"] = str(exc)
    return context


# --- detail-page panels ------------------------------------------------------------------

def logs_panel(request, container):
    return render_to_string("containers/_logs.html", {"container": container}, request=request)


def console_panel(request, container):
    if container.is_removed or not user_may(request.user, container.team_id, Action.OPERATE):
        return None  # operators and admins only
    return render_to_string("containers/_exec.html", {"container": container}, request=request)


def stats_panel(request, container):
    # The fragment loads itself (hx-trigger="load"), so the detail page never waits on it.
    context = {**_stats_context(container, load=False), "lazy": True}
    inner = render_to_string("containers/_stats.html", context, request=request)
    return format_html('<section class="panel" id="panel-stats" aria-label="Stats">{}</section>', inner)  # inner: a SafeString


def register_panels() -> None:
    panels.add(PAGE, Panel(order=40, name="stats", title="Stats", render=stats_panel))
    panels.add(PAGE, Panel(order=50, name="logs", title="Logs", render=logs_panel))
    panels.add(PAGE, Panel(order=60, name="console", title="Console", render=console_panel))


urlpatterns = [
    path("containers/<int:pk>/logs/", container_logs, name="logs"),
    path("containers/<int:pk>/logs/download/", container_logs_download, name="logs_download"),
    path("containers/<int:pk>/stats/", container_stats, name="stats"),
]
