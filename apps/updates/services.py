"""Update checks on demand (an Operation, OPERATE) and from beat (every team, no user)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from apps.activity import operations
from apps.containers.models import Container
from apps.core.api import user_may
from apps.core.roles import Action

from . import checks


def request_check(user, team, container: Container | None = None) -> operations.Operation:
    """Check one container, or every present container of the team."""
    from .tasks import check_operation

    if not user_may(user, team.pk, Action.OPERATE):
        raise PermissionDenied("Your role in this team does not allow update checks.")
    if container is not None and container.team_id != team.pk:
        raise ValidationError({"container": ["Not a container of this team."]})
    return operations.start(
        team=team, kind="update.check", task=check_operation, user=user,
        target_kind="container" if container else "team", target_id=container.pk if container else team.pk,
        target_name=container.name if container else team.name, params={"container": container.pk if container else None},
    )


def perform_check(op, progress) -> dict:
    qs = Container.objects.filter(team=op.team)
    if op.params.get("container"):
        qs = qs.filter(pk=op.params["container"])
    result = checks.check_containers(checks.checkable(qs))
    progress.log(", ".join(f"{k}: {v}" for k, v in result.items()))
    return result


def check_all() -> dict:
    return checks.check_containers(checks.checkable())
