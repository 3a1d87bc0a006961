from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from apps.core.htmx import render_page

from .models import Event, Operation


def _team_rows(request, queryset):
    qs = queryset.for_user(request.user)
    return qs.filter(team=request.team) if request.team else qs.none()


@login_required
def feed(request):
    events = _team_rows(request, Event.objects.all())[:100]
    return render_page(request, "activity/feed.html", {"nav": "activity", "events": events}, partial="events")


@login_required
def operations(request):
    ops = _team_rows(request, Operation.objects.select_related("created_by"))[:100]
    return render_page(request, "activity/operations.html", {"nav": "operations", "operations": ops}, partial="operations")


@login_required
def operation_detail(request, pk):
    op = get_object_or_404(Operation.objects.for_user(request.user), pk=pk)
    return render(request, "activity/operation_detail.html", {"nav": "operations", "op": op})
