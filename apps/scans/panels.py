"""Panels on the containers app's pages (registered from ScansConfig.ready())."""

from django.template.loader import render_to_string

from apps.core.api import user_may
from apps.core.registries import Panel, panels
from apps.core.roles import Action


def image_panel(request, image):
    from .models import Scan

    if image is None:
        return None
    scans = Scan.objects.filter(team_id=image.team_id, image=image).order_by("-created_at")[:5]
    return render_to_string("scans/_image_panel.html", {
        "image": image, "scans": scans, "latest": scans[0] if scans else None,
        "can_operate": user_may(request.user, image.team_id, Action.OPERATE),
    }, request=request)


def container_panel(request, container):
    from .models import ConfigAudit

    if container is None:
        return None
    audit = ConfigAudit.objects.filter(team_id=container.team_id, container=container).first()
    return render_to_string("scans/_container_panel.html", {
        "container": container, "audit": audit, "can_operate": user_may(request.user, container.team_id, Action.OPERATE),
    }, request=request)


def register() -> None:
    panels.add("image_detail", Panel(50, "scans", "Vulnerabilities", image_panel))
    panels.add("container_detail", Panel(60, "config_audit", "Config audit", container_panel))
