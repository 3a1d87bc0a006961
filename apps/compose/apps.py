from django.apps import AppConfig


class ComposeConfig(AppConfig):
    name = "apps.compose"
    label = "compose"
    verbose_name = "Compose stacks"

    def ready(self):
        from .panels import register_panels

        register_panels()
