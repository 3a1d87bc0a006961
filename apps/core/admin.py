"""The admin base every team-owned model uses (DESIGN.md: the admin is a first-class UI).

Staff team members see only their teams' objects: in lists, change views, foreign-key
choices, autocompletes and filters. Viewers and operators read; team admins change. An
installation superuser sees everything.
"""

from django.contrib import admin

from .querysets import team_ids_for
from .roles import Action


def member_team_ids(user, action=Action.VIEW):
    from django.apps import apps

    Team = apps.get_model("accounts", "Team")
    return set(Team.objects.filter(pk__in=team_ids_for(user, action)).values_list("pk", flat=True))


class TeamScopedAdmin(admin.ModelAdmin):
    """Base admin for a model with a TeamScopedQuerySet (`objects.for_user`)."""

    team_path = "team"  # where the team is, from this model ("host__team" for nested rows)
    manage_action = Action.MANAGE  # the role action needed to add/change/delete
    list_filter = (("team", admin.RelatedOnlyFieldListFilter),)

    # --- which rows
    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user, Action.VIEW)

    def obj_team_id(self, obj):
        target = obj
        for part in self.team_path.split("__"):
            target = getattr(target, part)
        return getattr(target, "pk", None)

    # --- who may do what
    def _may(self, request, action, obj=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        teams = member_team_ids(user, action)
        if obj is None:
            return bool(teams)
        return self.obj_team_id(obj) in teams

    def has_module_permission(self, request):
        return self._may(request, Action.VIEW)

    def has_view_permission(self, request, obj=None):
        return self._may(request, Action.VIEW, obj)

    def has_add_permission(self, request):
        return self._may(request, self.manage_action)

    def has_change_permission(self, request, obj=None):
        return self._may(request, self.manage_action, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, self.manage_action, obj)

    # --- choices: a staff member can only point rows at objects of teams they may manage
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        manager = related._default_manager
        if not request.user.is_superuser and hasattr(manager, "for_user"):
            kwargs["queryset"] = manager.all().for_user(request.user, self.manage_action)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.related_model
        manager = related._default_manager
        if not request.user.is_superuser and hasattr(manager, "for_user"):
            kwargs["queryset"] = manager.all().for_user(request.user, self.manage_action)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReadOnlyTeamScopedAdmin(TeamScopedAdmin):
    """Records of what happened (events, audit, operations): nobody edits them in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
