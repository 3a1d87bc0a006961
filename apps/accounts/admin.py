"""Accounts in the admin. Team staff see their teams and the people in them; nobody can
raise their own privileges (superuser/staff flags, groups, permissions, their own role),
and secrets (token and invitation hashes, password hashes) are never shown."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import ngettext

from apps.core.admin import TeamScopedAdmin, is_active_staff, users_sharing_a_team
from apps.core.roles import Role

from .models import ApiToken, Invitation, LoginAttempt, Membership, Team, User


def _superuser(request) -> bool:
    return is_active_staff(request.user) and request.user.is_superuser


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Superusers manage everyone. Team staff see the users who share a team with them and
    may change only their own name and e-mail."""

    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser", "last_login")
    search_fields = ("username", "email", "first_name", "last_name")
    own_fields = ("first_name", "last_name", "email")
    # What a non-superuser may see of a user; no password hash, groups or permissions.
    limited_fieldsets = (
        (None, {"fields": ("username", "first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "date_joined")}),
    )

    def get_queryset(self, request):
        return users_sharing_a_team(request.user, super().get_queryset(request))

    def get_list_filter(self, request):
        return super().get_list_filter(request) if _superuser(request) else ("is_active", "is_staff")

    def get_fieldsets(self, request, obj=None):
        if _superuser(request) or obj is None:
            return super().get_fieldsets(request, obj)
        return self.limited_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if _superuser(request):
            return super().get_readonly_fields(request, obj)
        return tuple(f for block in self.limited_fieldsets for f in block[1]["fields"] if f not in self.own_fields)

    def has_module_permission(self, request):
        return is_active_staff(request.user)

    def has_view_permission(self, request, obj=None):
        if not is_active_staff(request.user):
            return False
        return obj is None or users_sharing_a_team(request.user).filter(pk=obj.pk).exists()

    def has_change_permission(self, request, obj=None):
        if _superuser(request):
            return True
        # Only one's own name and e-mail (the readonly fields keep the rest out of the form).
        return is_active_staff(request.user) and obj is not None and obj.pk == request.user.pk

    def has_add_permission(self, request):
        return _superuser(request)

    def has_delete_permission(self, request, obj=None):
        return _superuser(request)

    def user_change_password(self, request, id, form_url=""):
        # The admin form sets a password without asking for the old one: superusers only.
        if not _superuser(request):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


class MembershipInline(admin.TabularInline):
    """The members of a team, read-only here: members are changed in the Membership admin."""

    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(TeamScopedAdmin):
    """Team admins edit their team's settings; only superusers create or delete teams."""

    list_display = ("name", "slug", "time_zone", "created_at")
    list_filter = ()
    search_fields = ("name", "slug")
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if _superuser(request) else [*fields, "slug"]

    def has_add_permission(self, request):
        return _superuser(request)

    def has_delete_permission(self, request, obj=None):
        return _superuser(request)


class MembershipAdminForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        new_role = cleaned.get("role")
        if instance.pk and instance.role == Role.ADMIN and new_role and new_role != Role.ADMIN:
            if not Membership.objects.filter(team_id=instance.team_id, role=Role.ADMIN).exclude(pk=instance.pk).exists():
                self.add_error("role", "A team must keep at least one admin.")
        return cleaned


@admin.register(Membership)
class MembershipAdmin(TeamScopedAdmin):
    """Team admins add and change members of their teams, never their own membership."""

    form = MembershipAdminForm
    list_display = ("user", "team", "role", "created_at")
    list_filter = ("team", "role")
    search_fields = ("user__username", "user__email", "team__name")
    autocomplete_fields = ("user", "team")
    list_select_related = ("user", "team")

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # A membership stays in its team and with its user; only the role changes.
        return [*fields, "user", "team"] if obj is not None else fields

    def _own(self, request, obj) -> bool:
        return obj is not None and obj.user_id == request.user.pk and not request.user.is_superuser

    def _last_admin(self, obj) -> bool:
        return (
            obj is not None
            and obj.role == Role.ADMIN
            and not Membership.objects.filter(team_id=obj.team_id, role=Role.ADMIN).exclude(pk=obj.pk).exists()
        )

    def has_change_permission(self, request, obj=None):
        return not self._own(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self._own(request, obj) or self._last_admin(obj):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Invitation)
class InvitationAdmin(TeamScopedAdmin):
    """Open and past invitations; the link's secret is never shown (only its hash is kept,
    and not even that here). Invitations are sent from the portal; admins may withdraw one."""

    list_display = ("email", "team", "role", "invited_by", "created_at", "expires_at", "accepted_at")
    list_filter = ("team", "role")
    search_fields = ("email", "team__name")
    fields = ("team", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at", "accepted_by")
    readonly_fields = fields
    list_select_related = ("team", "invited_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens, read-only: a staff member sees and revokes their own, a superuser all.
    The key is shown once when issued; its hash never appears."""

    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    fields = ("user", "name", "key_prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = fields
    search_fields = ("name", "key_prefix", "user__username")
    list_select_related = ("user",)
    actions = ["revoke"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if _superuser(request) else qs.filter(user_id=request.user.pk)

    def get_list_filter(self, request):
        return (("user", admin.RelatedOnlyFieldListFilter),) if _superuser(request) else ()

    def has_module_permission(self, request):
        return is_active_staff(request.user)

    def has_view_permission(self, request, obj=None):
        if not is_active_staff(request.user):
            return False
        return obj is None or request.user.is_superuser or obj.user_id == request.user.pk

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return is_active_staff(request.user)

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):  # queryset is already scoped
            token.revoke()
            count += 1
        self.message_user(request, ngettext("%d token revoked.", "%d tokens revoked.", count) % count, messages.SUCCESS)


@admin.register(LoginAttempt)
class LoginAttemptAdmin(admin.ModelAdmin):
    """Failed logins (rate limit): installation data, superusers only."""

    list_display = ("username", "remote_addr", "created_at")
    search_fields = ("username", "remote_addr")
    list_filter = ("created_at",)
    readonly_fields = ("username", "remote_addr", "created_at")

    def has_module_permission(self, request):
        return _superuser(request)

    def has_view_permission(self, request, obj=None):
        return _superuser(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return _superuser(request)  # clearing attempts lifts a lockout

