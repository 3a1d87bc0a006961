from django.apps import AppConfig


class UpdatesConfig(AppConfig):
    name = "apps.updates"
    label = "updates"
    verbose_name = "Image updates"

    def ready(self):
        from .panels import register

        register()
