from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self):
        # Charts on earlier apps' pages, through the page-panel registry (DESIGN.md).
        from .panels import register_panels

        register_panels()
