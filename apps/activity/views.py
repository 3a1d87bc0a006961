from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from apps.core.htmx import render_page
from apps.core.roles import Action

from . import operations as ops_service
from .filters import EventFilter
from .models import Event, Operation

FEED_LIMIT = 100
OPERATIONS_LIMIT = 100


def _team_rows(request, queryset, action: str = Action.VIEW):
    qs = queryset.for_user(request.user, action)
    return qs.filter(team=request.team) if request.team else qs.none()


@login_required
def feed(request):
    filterset = EventFilter(request.GET or None, queryset=_team_rows(request, Event.objects.all()))
    context = {
        "nav": "activity",
        "filter": filterset,
        "events": filterset.qs[:FEED_LIMIT],
        "filtered": bool(request.GET),
        "query": request.GET.urlencode(),
    }
    return render_page(request, "activity/feed.html", context, partial="events")


@login_required
def operations(request):
    ops = _team_rows(request, Operation.objects.select_related("created_by"))[:OPERATIONS_LIMIT]
    return render_page(request, "activity/operations.html", {"nav": "operations", "operations": ops}, partial="operations")


def _may_operate(user, op: Operation) -> bool:
    return Operation.objects.for_user(user, Action.OPERATE).filter(pk=op.pk).exists()


@login_required
def operation_detail(request, pk):
    op = get_object_or_404(Operation.objects.for_user(request.user).select_related("created_by"), pk=pk)
    context = {"nav": "operations", "op": op, "may_cancel": not op.is_finished and _may_operate(request.user, op)}
    return render_page(request, "activity/operation_detail.html", context, partial="detail")


@login_required
@require_POST
def operation_cancel(request, pk):
    # Another team's operation answers 404; a viewer of this team gets 403.
    op = get_object_or_404(Operation.objects.for_user(request.user), pk=pk)
    if not _may_operate(request.user, op):
        raise PermissionDenied("Only operators and admins may cancel operations.")
    if ops_service.request_cancel(op):
        messages.success(request, f"Cancellation of operation {op.pk} requested.")
    else:
        messages.info(request, f"Operation {op.pk} had already finished.")
    return redirect("activity:operation_detail", pk=op.pk)
