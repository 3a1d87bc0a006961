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
        # --- lifecycle
        # --- resources
        # --- streams
