"""THE composition point of the containers API viewsets. api/urls.py registers only these.

Each slice contributes a mixin from its own module; this file puts them together so no
slice edits another's code:

    api/views.py      (mirror)     ContainerReadMixin, ImageReadMixin, VolumeReadMixin, NetworkReadMixin
    api/lifecycle.py  (lifecycle)  ContainerLifecycleMixin         -> ContainerViewSet
    api/resources.py  (resources)  ImageResourceMixin, VolumeResourceMixin, NetworkResourceMixin
    api/streams.py    (streams)    ContainerStreamsMixin           -> ContainerViewSet

Contract for a mixin:
- a plain class (no viewset base) with `@action` methods and/or DRF mixins
  (e.g. `mixins.CreateModelMixin`); it is placed LEFT of the read mixin and the base
  `TeamScopedReadOnlyViewSet`, so its methods win;
- its roles in `action_roles = {"start": Action.OPERATE, ...}`: this module MERGES every
  mixin's `action_roles` (the base defaults to MANAGE for anything unnamed);
- a missing module or class contributes nothing, so each branch merges on its own.
"""

from __future__ import annotations

import importlib

from apps.core.api import TeamScopedReadOnlyViewSet

from . import views


def _optional(module: str, name: str) -> tuple[type, ...]:
    """(cls,) from apps.containers.api.<module>, or () while that slice is not merged."""
    full = f"{__package__}.{module}"
    try:
        mod = importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name != full:
            raise  # the module exists but something it imports is missing: a real error
        return ()
    cls = getattr(mod, name, None)
    return (cls,) if cls is not None else ()


def compose(name: str, read_mixin: type, *extras: type) -> type:
    bases = (*extras, read_mixin, TeamScopedReadOnlyViewSet)
    roles: dict[str, str] = {}
    for cls in reversed(bases):
        roles.update(getattr(cls, "action_roles", {}) or {})
    return type(name, bases, {"action_roles": roles, "__module__": __name__, "__doc__": read_mixin.__doc__})


ContainerViewSet = compose(
    "ContainerViewSet",
    views.ContainerReadMixin,
    *_optional("lifecycle", "ContainerLifecycleMixin"),
    *_optional("streams", "ContainerStreamsMixin"),
)
ImageViewSet = compose("ImageViewSet", views.ImageReadMixin, *_optional("resources", "ImageResourceMixin"))
VolumeViewSet = compose("VolumeViewSet", views.VolumeReadMixin, *_optional("resources", "VolumeResourceMixin"))
NetworkViewSet = compose("NetworkViewSet", views.NetworkReadMixin, *_optional("resources", "NetworkResourceMixin"))
DockerEventViewSet = views.DockerEventViewSet
