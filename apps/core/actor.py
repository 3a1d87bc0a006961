"""Who is acting: set by middleware for requests and by the task base for Celery tasks.

Audit records and events read it, so the same code path records the same "who" whether it
runs in a request or in a worker acting for a user.
"""

import contextlib
import contextvars
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str = ""
    via: str = "system"  # ui | api | admin | task | cli | system
    request_id: str = ""
    remote_addr: str = ""


_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("dockerforge_actor", default=None)


def current() -> Actor | None:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def acting(actor: Actor | None):
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def set_actor(actor: Actor | None):
    return _current.set(actor)


def reset_actor(token) -> None:
    _current.reset(token)


def actor_for_user(user, via: str, request_id: str = "", remote_addr: str = "") -> Actor:
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(user_id=None, via=via, request_id=request_id, remote_addr=remote_addr)
    return Actor(user_id=user.pk, username=user.get_username(), via=via, request_id=request_id, remote_addr=remote_addr)
