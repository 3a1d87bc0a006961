from django.apps import AppConfig


class ContainersConfig(AppConfig):
    name = "apps.containers"
    label = "containers"
    verbose_name = "Containers, images, volumes and networks"

    def ready(self):
        # lifecycle slice: its Celery tasks (not in tasks.py, so autodiscovery misses them)
        # and the actions panel on the container page.
        from . import tasks_lifecycle  # noqa: F401
        from .views_lifecycle import register_panels

        register_panels()
