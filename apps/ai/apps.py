from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "apps.ai"
    label = "ai"
    verbose_name = "AI troubleshooting"

    def ready(self):
        from . import panels, providers

        providers.register_builtin()
        panels.register()
