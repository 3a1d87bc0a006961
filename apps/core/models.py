"""Abstract model mixins shared by every app. `core` itself has no tables."""

from django.db import models

from .querysets import TeamScopedQuerySet


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TeamOwnedModel(TimestampedModel):
    """A row that belongs to one team; every query goes through `for_user`."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")

    objects = TeamScopedQuerySet.as_manager()

    # Audited by the generic change logger (activity app) when a person changes it.
    audited = True

    class Meta:
        abstract = True
