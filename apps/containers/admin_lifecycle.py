"""Admin actions on containers (start, stop, restart, remove): the same request_* services
as the portal and the API, so roles, Operations, events and audit are the same.

The mirror slice's ContainerAdmin lists them: `actions = [*LIFECYCLE_ADMIN_ACTIONS]`."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html

from . import lifecycle


def _run(modeladmin, request, queryset, action: str, **opts) -> None:
    started = 0
    for container in queryset.filter(removed_at__isnull=True):
        try:
            lifecycle.request_action(request.user, container, action, **opts)
            started += 1
        except (PermissionDenied, ValidationError) as exc:
            modeladmin.message_user(request, f"{container.name}: {'; '.join(getattr(exc, 'messages', [str(exc)]))}", messages.ERROR)
    if started:
        link = format_html('<a href="{}">operations</a>', reverse("activity:operations"))
        modeladmin.message_user(request, format_html("{} {} container(s): see {}", action.capitalize(), started, link), messages.SUCCESS)


@admin.action(description="Start selected containers")
def start_containers(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, "start")


@admin.action(description="Stop selected containers")
def stop_containers(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, "stop")


@admin.action(description="Restart selected containers")
def restart_containers(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, "restart")


@admin.action(description="Remove selected containers (force)")
def remove_containers(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, "remove", force=True)


LIFECYCLE_ADMIN_ACTIONS = [start_containers, stop_containers, restart_containers, remove_containers]
