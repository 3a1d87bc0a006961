from django.apps import AppConfig


class ContainersConfig(AppConfig):
    name = "apps.containers"
    label = "containers"
    verbose_name = "Containers, images, volumes and networks"

    def ready(self):
        # Each slice registers its panels/hooks through one small function of its own module.
        # --- mirror: the hosts app's "sync" runs the containers sync too (core registry).
        from .sync import register_hooks

        register_hooks()
        # --- lifecycle: its Celery tasks (autodiscovery finds only tasks.py) and the actions panel
        from . import tasks_lifecycle  # noqa: F401
        from .views_lifecycle import register_panels as register_lifecycle_panels

        register_lifecycle_panels()
        # --- resources: action panels on image/volume/network pages; their Celery tasks
        from . import tasks_resources  # noqa: F401
        from .views_resources import register_panels as register_resource_panels

        register_resource_panels()
        # --- streams
        from .views_streams import register_panels as register_stream_panels

        register_stream_panels()
