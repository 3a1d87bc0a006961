from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.api import user_may
from apps.core.htmx import render_page
from apps.core.registries import panels
from apps.core.roles import Action

from . import services
from .forms import HostForm
from .models import DockerHost


def _require(request, team_id, action) -> None:
    if not user_may(request.user, team_id, action):
        raise PermissionDenied("Your role in this team does not allow this action.")


def _host(request, pk) -> DockerHost:
    """A host of a team the user belongs to; others answer 404."""
    return get_object_or_404(DockerHost.objects.for_user(request.user, Action.VIEW), pk=pk)


@login_required
def host_list(request):
    hosts = DockerHost.objects.for_user(request.user)
    hosts = hosts.filter(team=request.team) if request.team else hosts.none()
    can_manage = bool(request.team) and user_may(request.user, request.team.pk, Action.MANAGE)
    return render_page(
        request, "hosts/host_list.html", {"nav": "hosts", "hosts": hosts, "can_manage": can_manage}, partial="rows"
    )


@login_required
def host_create(request):
    if not request.team:
        raise PermissionDenied("Join or create a team first.")
    _require(request, request.team.pk, Action.MANAGE)
    form = HostForm(request.POST or None, user=request.user, team=request.team)
    if request.method == "POST" and form.is_valid():
        host = form.save()
        if host.ssh_host_key_fingerprint:
            messages.info(request, f"Pinned the server's SSH host key {host.ssh_host_key_fingerprint}.")
        _first_test(request, host)
        return redirect("hosts:detail", pk=host.pk)
    return render(request, "hosts/host_form.html", {"nav": "hosts", "form": form, "host": None})


def _first_test(request, host: DockerHost) -> None:
    result = services.request_test_connection(request.user, host)
    if result.ok:
        messages.success(request, f"Host {host.name} added: Docker {result.info['version']} answered.")
    else:
        messages.warning(request, f"Host {host.name} added, but the connection test failed: {result.error}")


@login_required
def host_edit(request, pk):
    host = _host(request, pk)
    _require(request, host.team_id, Action.MANAGE)
    form = HostForm(request.POST or None, instance=host, user=request.user, team=host.team)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Host {host.name} saved.")
        return redirect("hosts:detail", pk=host.pk)
    return render(request, "hosts/host_form.html", {"nav": "hosts", "form": form, "host": host})


@login_required
def host_delete(request, pk):
    host = _host(request, pk)
    _require(request, host.team_id, Action.MANAGE)
    if request.method == "POST":
        name = host.name
        host.delete()
        messages.success(request, f"Host {name} deleted.")
        return redirect("hosts:list")
    return render(request, "hosts/host_confirm_delete.html", {"nav": "hosts", "host": host})


@login_required
def host_detail(request, pk):
    host = _host(request, pk)
    return render(request, "hosts/host_detail.html", _detail_context(request, host))


def _detail_context(request, host, result=None) -> dict:
    return {
        "nav": "hosts",
        "host": host,
        "result": result,
        "can_operate": user_may(request.user, host.team_id, Action.OPERATE),
        "can_manage": user_may(request.user, host.team_id, Action.MANAGE),
        "panels": panels.for_page("host_detail"),
    }


@login_required
@require_POST
def host_test(request, pk):
    """htmx: the result panel; without JavaScript: the detail page with the result."""
    host = _host(request, pk)
    result = services.request_test_connection(request.user, host)  # 403 below operator
    return render_page(request, "hosts/host_detail.html", _detail_context(request, host, result), partial="test_result")
