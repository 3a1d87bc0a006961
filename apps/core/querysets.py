"""Team-scoped querysets: the one place that decides which rows a user may see or touch."""

from django.apps import apps
from django.db import models

from .roles import ROLES_FOR_ACTION, Action


def team_ids_for(user, action: str = Action.VIEW):
    """A subquery of the ids of teams where `user` may perform `action`."""
    Membership = apps.get_model("accounts", "Membership")
    return Membership.objects.filter(user_id=user.pk, role__in=ROLES_FOR_ACTION[action]).values("team_id")


class TeamScopedQuerySet(models.QuerySet):
    # Models that do not hold `team` directly name the path to it (e.g. "host__team").
    team_field = "team"

    def for_user(self, user, action: str = Action.VIEW):
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(**{f"{self.team_field}__in": team_ids_for(user, action)})

    def for_team(self, team):
        return self.filter(**{self.team_field: team})
