from django.apps import AppConfig


class ContainersConfig(AppConfig):
    name = "apps.containers"
    label = "containers"
    verbose_name = "Containers, images, volumes and networks"

    def ready(self):
        from .views_streams import register_panels

        register_panels()
