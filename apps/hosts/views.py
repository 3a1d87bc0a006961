from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404

from apps.core.htmx import render_page

from .models import DockerHost


@login_required
def host_list(request):
    hosts = DockerHost.objects.for_user(request.user)
    hosts = hosts.filter(team=request.team) if request.team else hosts.none()
    return render_page(request, "hosts/host_list.html", {"nav": "hosts", "hosts": hosts}, partial="rows")


@login_required
def host_detail(request, pk):
    host = get_object_or_404(DockerHost.objects.for_user(request.user), pk=pk)
    return render_page(request, "hosts/host_detail.html", {"nav": "hosts", "host": host})
