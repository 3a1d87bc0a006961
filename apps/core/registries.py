"""Registries that later apps fill in their AppConfig.ready(), so that work can flow "up"
the app order (an earlier app shows a later app's panel) without an import going the
wrong way. Plugins from other packages join through entry-point groups named
`dockerforge.<extension point>`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

logger = logging.getLogger(__name__)


class Registry:
    """An ordered name -> item registry with a matching entry-point group for plugins."""

    def __init__(self, extension_point: str):
        self.extension_point = extension_point
        self._items: dict[str, Any] = {}
        self._plugins_loaded = False

    @property
    def entry_point_group(self) -> str:
        return f"dockerforge.{self.extension_point}"

    def register(self, name: str, item: Any = None):
        def decorator(obj):
            if name in self._items and self._items[name] is not obj:
                raise ValueError(f"{self.extension_point}: {name!r} is already registered")
            self._items[name] = obj
            return obj

        return decorator(item) if item is not None else decorator

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    def load_plugins(self) -> None:
        """Import third-party entries once; a broken plugin is logged, never fatal."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.entry_point_group):
            try:
                self.register(ep.name, ep.load())
            except Exception:  # noqa: BLE001 - a plugin must not take the portal down
                logger.exception("plugin %s in %s failed to load", ep.name, self.entry_point_group)

    def get(self, name: str):
        self.load_plugins()
        return self._items[name]

    def items(self):
        self.load_plugins()
        return list(self._items.items())

    def __contains__(self, name: str) -> bool:
        self.load_plugins()
        return name in self._items


@dataclass(order=True)
class Panel:
    """A tab or panel a later app adds to an earlier app's page (or a team settings section).

    `render(request, obj)` returns HTML (a SafeString from a template) or None to hide it.
    """

    order: int
    name: str = field(compare=False)
    title: str = field(compare=False)
    render: Callable = field(compare=False)


class PanelRegistry:
    def __init__(self):
        self._by_page: dict[str, dict[str, Panel]] = {}

    def add(self, page: str, panel: Panel) -> None:
        self._by_page.setdefault(page, {})[panel.name] = panel

    def for_page(self, page: str) -> list[Panel]:
        return sorted(self._by_page.get(page, {}).values())


# Page panels keyed by page ("host_detail", "container_detail", "dashboard", ...), and
# settings sections ("team_settings").
panels = PanelRegistry()
# Prometheus collectors (objects with collect()) that /metrics exposes.
metric_collectors = Registry("metric_collectors")
# Extension points whose entries are plugins (third parties register through entry points).
notification_channels = Registry("notification_channels")
ai_providers = Registry("ai_providers")
audit_checks = Registry("audit_checks")
# Work the hosts app's "sync" runs after the connection test: name -> fn(host, progress) -> dict
# (the containers mirror registers here; hosts cannot import containers).
host_sync_hooks = Registry("host_sync_hooks")
