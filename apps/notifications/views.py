"""Pages: channels (list, form, detail with last error and "Send test"), routes (list,
form), the deliveries log. Reading is for viewers, "Send test" for operators, changes for
admins; objects of other teams answer 404."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.api import user_may
from apps.core.htmx import render_page
from apps.core.roles import Action

from . import services
from .channels import parse_headers
from .forms import ChannelForm, RouteForm
from .models import Channel, Delivery, Route


def _require(request, team_id, action) -> None:
    if not user_may(request.user, team_id, action):
        raise PermissionDenied("Your role in this team does not allow this action.")


def _team_or_403(request):
    if not request.team:
        raise PermissionDenied("Join or create a team first.")
    return request.team


def _mine(request, model, pk):
    return get_object_or_404(model.objects.for_user(request.user, Action.VIEW), pk=pk)


def _in_team(request, qs):
    return qs.filter(team=request.team) if request.team else qs.none()


def _can(request, action) -> bool:
    return bool(request.team) and user_may(request.user, request.team.pk, action)


def _managed_team(request):
    """The current team, for an admin of it (403 otherwise)."""
    team = _team_or_403(request)
    _require(request, team.pk, Action.MANAGE)
    return team


def _managed(request, model, pk):
    """One of this user's objects (404 for another team's), for an admin of its team."""
    obj = _mine(request, model, pk)
    _require(request, obj.team_id, Action.MANAGE)
    return obj


def _form_page(request, form, kind: str, instance, done: str, after: Callable[[Model], None] | None = None) -> HttpResponse:
    """A valid POST saves, says so and goes on to the object; otherwise the form again."""
    if request.method == "POST" and form.is_valid():
        obj = form.save()
        messages.success(request, f"{kind.capitalize()} {obj.name} {done}.")
        if after is not None:
            after(obj)
        return redirect(_NEXT[kind](obj))
    return render(request, f"notifications/{kind}_form.html", {"nav": "notifications", "form": form, kind: instance})


def _delete_page(request, obj: Model, kind: str, cancel: str) -> HttpResponse:
    """POST deletes and goes back to the list; GET asks first."""
    if request.method == "POST":
        name = obj.name
        obj.delete()
        messages.success(request, f"{kind.capitalize()} {name} deleted.")
        return redirect(f"notifications:{kind}_list")
    return render(request, "notifications/confirm_delete.html", {"nav": "notifications", "object": obj, "cancel": cancel})


# Where a saved object's page is.
_NEXT: dict[str, Callable[[Model], str]] = {
    "channel": lambda channel: reverse("notifications:channel_detail", kwargs={"pk": channel.pk}),
    "route": lambda route: reverse("notifications:route_list"),
}


# --- channels ---------------------------------------------------------------------------------

@login_required
def channel_list(request):
    channels = _in_team(request, Channel.objects.for_user(request.user))
    return render(request, "notifications/channel_list.html",
                  {"nav": "notifications", "channels": channels, "can_manage": _can(request, Action.MANAGE)})


@login_required
def channel_create(request):
    form = ChannelForm(request.POST or None, team=_managed_team(request))

    def secret_once(channel: Channel) -> None:
        if not form.cleaned_data.get("signing_secret") and form.values.get("signing_secret"):
            # Shown once, like an API token: the receiver needs it to verify signatures.
            messages.info(request, f"Signing secret (shown once, keep it for your receiver): {channel.signing_secret}")

    return _form_page(request, form, "channel", None, "added", after=secret_once)


@login_required
def channel_edit(request, pk):
    channel = _managed(request, Channel, pk)
    return _form_page(request, ChannelForm(request.POST or None, team=channel.team, instance=channel), "channel", channel, "saved")


@login_required
def channel_delete(request, pk):
    return _delete_page(request, _managed(request, Channel, pk), "channel", "notifications:channel_detail")


def _channel_context(request, channel, test=None) -> dict:
    return {
        "nav": "notifications", "channel": channel, "test": test,
        "deliveries": channel.deliveries.select_related("route")[:20],
        "routes": channel.routes.all(),
        "header_names": sorted(parse_headers(channel.headers)),
        "can_operate": user_may(request.user, channel.team_id, Action.OPERATE),
        "can_manage": user_may(request.user, channel.team_id, Action.MANAGE),
    }


@login_required
def channel_detail(request, pk):
    channel = _mine(request, Channel, pk)
    return render(request, "notifications/channel_detail.html", _channel_context(request, channel))


@login_required
@require_POST
def channel_test(request, pk):
    """htmx: the result panel; without JavaScript: the detail page with the result."""
    channel = _mine(request, Channel, pk)
    delivery = services.request_send_test(request.user, channel)  # 403 below operator
    channel.refresh_from_db()
    return render_page(request, "notifications/channel_detail.html", _channel_context(request, channel, delivery),
                       partial="test_result")


# --- routes -----------------------------------------------------------------------------------

@login_required
def route_list(request):
    routes = _in_team(request, Route.objects.for_user(request.user)).prefetch_related("channels")
    return render(request, "notifications/route_list.html",
                  {"nav": "notifications", "routes": routes, "can_manage": _can(request, Action.MANAGE)})


@login_required
def route_create(request):
    return _form_page(request, RouteForm(request.POST or None, team=_managed_team(request)), "route", None, "added")


@login_required
def route_edit(request, pk):
    route = _managed(request, Route, pk)
    return _form_page(request, RouteForm(request.POST or None, instance=route, team=route.team), "route", route, "saved")


@login_required
def route_delete(request, pk):
    return _delete_page(request, _managed(request, Route, pk), "route", "notifications:route_edit")


# --- deliveries -------------------------------------------------------------------------------

@login_required
def delivery_list(request):
    deliveries = _in_team(request, Delivery.objects.for_user(request.user)).select_related("channel", "route")
    status = request.GET.get("status", "")
    if status in Delivery.Status.values:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, 50).get_page(request.GET.get("page"))
    return render_page(request, "notifications/delivery_list.html",
                       {"nav": "notifications", "page": page, "status": status, "statuses": Delivery.Status.choices},
                       partial="rows")


@login_required
def delivery_detail(request, pk):
    delivery = _mine(request, Delivery, pk)
    return render(request, "notifications/delivery_detail.html", {
        "nav": "notifications", "delivery": delivery, "attempts": delivery.attempt_rows.all(),
        "folded": delivery.folded.all()[:100],
    })
