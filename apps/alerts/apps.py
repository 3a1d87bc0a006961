from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "apps.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self):
        from apps.core import events

        from . import signals  # noqa: F401 - default rules for new teams
        from .panels import register_panels
        from .tasks import dispatch_event

        # Event rules evaluate as events arrive (DESIGN.md: flows up through core's registries).
        events.subscribe("container.", dispatch_event)
        events.subscribe("host.", dispatch_event)
        register_panels()
