"""The memory forecast on the container page (core.registries.panels)."""

from django.template.loader import render_to_string

from apps.core.registries import Panel, panels


def forecast_panel(request, container):
    from .conditions import container_forecast
    from .models import Alert

    if container is None:
        return None
    fc = container_forecast(container) if container.state == "running" else None
    alerts = Alert.objects.open().filter(team_id=container.team_id, target_kind="container", target_id=container.pk)
    return render_to_string("alerts/_forecast.html", {"container": container, "forecast": fc,
                                                      "alerts": alerts.select_related("rule")[:20]}, request=request)


def register_panels() -> None:
    panels.add("container_detail", Panel(25, "forecast", "Alerts and forecast", forecast_panel))
