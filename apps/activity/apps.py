from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "apps.activity"
    label = "activity"
    verbose_name = "Activity, audit and operations"

    def ready(self):
        from apps.core import events

        from . import audit
        from .sink import store_event

        events.register_sink(store_event)
        audit.connect()
