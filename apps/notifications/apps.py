from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from apps.core import events
        from apps.core.registries import notification_channels

        from .channels import register_builtins
        from .plugins.ntfy import NtfyChannel
        from .services import route_event

        register_builtins()
        # ntfy is written against the plugin interface alone, as a third-party package's
        # entry point (group dockerforge.notification_channels) would be.
        notification_channels.register(NtfyChannel.name, NtfyChannel)
        # Every event: nothing calls this app by name.
        events.subscribe("", route_event)
