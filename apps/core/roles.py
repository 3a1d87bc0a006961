"""Team roles and the actions they allow (DESIGN.md, Roles)."""

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Admin"


class Action(models.TextChoices):
    VIEW = "view", "Read"  # read everything of the team, logs included
    OPERATE = "operate", "Operate"  # lifecycle, pulls, exec, scans, backups, acks
    MANAGE = "manage", "Manage"  # hosts, credentials, channels, rules, settings, members


# Which roles may perform each action.
ROLES_FOR_ACTION: dict[str, tuple[str, ...]] = {
    Action.VIEW: (Role.VIEWER, Role.OPERATOR, Role.ADMIN),
    Action.OPERATE: (Role.OPERATOR, Role.ADMIN),
    Action.MANAGE: (Role.ADMIN,),
}


def role_allows(role: str | None, action: str) -> bool:
    return role is not None and role in ROLES_FOR_ACTION[action]
