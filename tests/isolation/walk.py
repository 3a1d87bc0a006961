"""Discovery for the isolation test: API routes, admin registrations, WebSocket routes."""

from dataclasses import dataclass

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.viewsets import ViewSetMixin

from apps.core.roles import Action


@dataclass(frozen=True)
class ApiRoute:
    name: str  # URL name inside the "api" namespace
    view: type | None  # the viewset class (None: not a viewset)
    actions: tuple[tuple[str, str], ...]  # (HTTP method, viewset action)
    detail: bool

    @property
    def model(self):
        queryset = getattr(self.view, "queryset", None)
        return None if queryset is None else queryset.model

    def required_action(self, action_name: str) -> str:
        """The role action the viewset demands for one of its actions."""
        view = self.view()
        view.action = action_name
        if hasattr(view, "required_action"):
            return view.required_action()
        return Action.VIEW if action_name in ("list", "retrieve") else Action.MANAGE


def _flatten(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _flatten(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + entry.name, entry


def api_routes() -> list[ApiRoute]:
    _, resolver = get_resolver().namespace_dict["api"]
    routes: dict[str, ApiRoute] = {}
    for name, pattern in _flatten(resolver.url_patterns):
        callback = pattern.callback
        view = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None)
        if view is None or not issubclass(view, ViewSetMixin) or not actions:
            routes.setdefault(name, ApiRoute(name, None, (), False))
            continue
        detail = bool(callback.initkwargs.get("detail"))
        routes.setdefault(name, ApiRoute(name, view, tuple(sorted(actions.items())), detail))
    return sorted(routes.values(), key=lambda r: r.name)


def admin_labels() -> list[str]:
    return sorted(model._meta.label_lower for model in admin.site._registry)


def model_admin_for(label: str):
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower == label:
            return model_admin
    raise LookupError(label)


def autocomplete_source(model):
    """A registered (model, field) with a foreign key to `model`: what the autocomplete
    endpoint needs to serve `model`'s choices."""
    for source in admin.site._registry:
        for field in source._meta.get_fields():
            if getattr(field, "concrete", False) and field.is_relation and field.related_model is model and (field.many_to_one or field.many_to_many):
                return source, field
    return None


def websocket_routes():
    from dockerforge.routing import websocket_urlpatterns

    return list(websocket_urlpatterns)
