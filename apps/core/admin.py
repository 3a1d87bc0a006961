"""The admin base every team-owned model uses (DESIGN.md: the admin is a first-class UI).

Staff team members see only their teams' objects: in lists, change views, foreign-key
choices, autocompletes and filters. Viewers and operators read; team admins change. An
installation superuser sees everything.
"""

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models

from .querysets import team_ids_for
from .roles import Action

# Shown read-only on every change page that has them (who/when is audit information).
AUDIT_FIELDS = ("created_at", "updated_at")


def member_team_ids(user, action=Action.VIEW):
    from django.apps import apps

    Team = apps.get_model("accounts", "Team")
    return set(Team.objects.filter(pk__in=team_ids_for(user, action)).values_list("pk", flat=True))


def users_sharing_a_team(user, queryset=None):
    """The users `user` may see: those who share a team with them (and themselves)."""
    from django.apps import apps

    User = apps.get_model(settings.AUTH_USER_MODEL)
    queryset = User._default_manager.all() if queryset is None else queryset
    if user.is_superuser:
        return queryset
    Membership = apps.get_model("accounts", "Membership")
    shared = Membership.objects.filter(team_id__in=team_ids_for(user, Action.VIEW)).values("user_id")
    return queryset.filter(models.Q(pk__in=shared) | models.Q(pk=user.pk)).distinct()


def scoped_choices(model, user, action, queryset=None):
    """The rows of `model` a non-superuser may pick in a form: team-scoped models through
    `for_user`, users through shared teams. Other models are installation data, unscoped."""
    queryset = model._default_manager.all() if queryset is None else queryset
    if user.is_superuser:
        return queryset
    if hasattr(queryset, "for_user"):
        return queryset.for_user(user, action)
    if model._meta.label_lower == settings.AUTH_USER_MODEL.lower():
        return users_sharing_a_team(user, queryset)
    return queryset


def is_active_staff(user) -> bool:
    return bool(user.is_active and user.is_staff)


class ScopedListFilterMixin:
    """Plain foreign-key names in list_filter become RelatedOnlyFieldListFilter: the default
    RelatedFieldListFilter lists every row of the related table (other teams' names)."""

    def get_list_filter(self, request):
        converted = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and "__" not in entry:
                field = self.model._meta.get_field(entry)
                if field.is_relation:
                    entry = (entry, admin.RelatedOnlyFieldListFilter)
            converted.append(entry)
        return converted


class TeamScopedAdmin(ScopedListFilterMixin, admin.ModelAdmin):
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

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        names = {f.name for f in self.model._meta.concrete_fields}
        fields += [name for name in AUDIT_FIELDS if name in names and name not in fields]
        return fields

    # --- who may do what
    def _may(self, request, action, obj=None) -> bool:
        user = request.user
        if not is_active_staff(user):
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

    def save_model(self, request, obj, form, change):
        # Defence in depth: the form's choices already exclude other teams.
        if not self._may(request, self.manage_action, obj):
            raise PermissionDenied("You may not save objects into that team.")
        super().save_model(request, obj, form, change)

    # --- choices: a staff member can only point rows at objects of teams they may manage
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            kwargs["queryset"] = scoped_choices(db_field.related_model, request.user, self.manage_action, kwargs.get("queryset"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            kwargs["queryset"] = scoped_choices(db_field.related_model, request.user, self.manage_action, kwargs.get("queryset"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReadOnlyTeamScopedAdmin(TeamScopedAdmin):
    """Records of what happened (events, audit, operations): nobody edits them in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return is_active_staff(request.user) and request.user.is_superuser
