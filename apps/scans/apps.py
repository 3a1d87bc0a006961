from django.apps import AppConfig


class ScansConfig(AppConfig):
    name = "apps.scans"
    label = "scans"
    verbose_name = "Security scans"

    def ready(self):
        from apps.core import checks

        from . import audit, panels, policies

        audit.register_builtin()
        # Policies veto container creates/updates (the containers app calls checks.run).
        checks.register("container.create", policies.check_container_spec)
        checks.register("container.update", policies.check_container_spec)
        panels.register()
