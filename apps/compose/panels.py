"""Panels this app adds to earlier apps' pages (registered in ComposeConfig.ready())."""

from django.template.loader import render_to_string

from apps.core.registries import Panel, panels
from apps.core.roles import Action


def container_stack_panel(request, container):
    """On a Compose container's page: its stack and service, linked."""
    from .models import ComposeProject

    if not getattr(container, "compose_project", ""):
        return None
    project = ComposeProject.objects.for_user(request.user, Action.VIEW).filter(
        host_id=container.host_id, name=container.compose_project).first()
    return render_to_string("compose/_container_panel.html", {"container": container, "project": project}, request=request)


def register_panels() -> None:
    panels.add("container_detail", Panel(40, "compose", "Stack", container_stack_panel))
