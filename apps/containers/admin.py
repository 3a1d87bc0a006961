"""Admin: the mirror read-only (engines own that state), registry credentials editable by
team admins with a write-only password. Other slices append admin actions in their section
(they call the same request_* services as the portal)."""

from django import forms
from django.contrib import admin

from apps.core.admin import TeamScopedAdmin

from .models import Container, Image, Network, RegistryCredential, Volume


class MirrorAdmin(TeamScopedAdmin):
    """Rows record the engines' state: nobody adds or edits them here; removal is the sync's."""

    list_select_related = ("host", "team")
    host_filter = ("host", admin.RelatedOnlyFieldListFilter)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="Present", ordering="removed_at")
    def present(self, obj) -> bool:
        return obj.removed_at is None


class RemovedFilter(admin.SimpleListFilter):
    title = "presence"
    parameter_name = "removed"

    def lookups(self, request, model_admin):
        return (("no", "Present"), ("yes", "Removed"))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(removed_at__isnull=False)
        return queryset


@admin.register(Container)
class ContainerAdmin(MirrorAdmin):
    list_display = ("name", "host", "team", "state", "health", "image", "compose_project", "present", "last_synced_at")
    list_filter = (*TeamScopedAdmin.list_filter, MirrorAdmin.host_filter, "state", "health", RemovedFilter)
    search_fields = ("name", "docker_id", "image", "compose_project")


@admin.register(Image)
class ImageAdmin(MirrorAdmin):
    list_display = ("__str__", "host", "team", "size", "architecture", "present", "last_synced_at")
    list_filter = (*TeamScopedAdmin.list_filter, MirrorAdmin.host_filter, RemovedFilter)
    search_fields = ("tags_text", "docker_id")


@admin.register(Volume)
class VolumeAdmin(MirrorAdmin):
    list_display = ("name", "host", "team", "driver", "present", "last_synced_at")
    list_filter = (*TeamScopedAdmin.list_filter, MirrorAdmin.host_filter, "driver", RemovedFilter)
    search_fields = ("name",)


@admin.register(Network)
class NetworkAdmin(MirrorAdmin):
    list_display = ("name", "host", "team", "driver", "scope", "present", "last_synced_at")
    list_filter = (*TeamScopedAdmin.list_filter, MirrorAdmin.host_filter, "driver", RemovedFilter)
    search_fields = ("name", "docker_id")


class RegistryCredentialForm(forms.ModelForm):
    """The password is write-only: never rendered back; left blank on edit keeps the stored one."""

    password = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False,
                               help_text="Password or access token. Leave blank to keep the stored one.")

    class Meta:
        model = RegistryCredential
        fields = ["team", "registry", "username", "password"]

    def clean_password(self):
        value = self.cleaned_data.get("password", "")
        if not value:
            if self.instance.pk:
                return self.instance.password
            raise forms.ValidationError("A password or access token is required.")
        return value


@admin.register(RegistryCredential)
class RegistryCredentialAdmin(TeamScopedAdmin):
    form = RegistryCredentialForm
    list_display = ("registry", "username", "team", "updated_at")
    search_fields = ("registry", "username")
    readonly_fields = ("created_at", "updated_at")


# --- lifecycle: admin actions (start, stop, restart, remove) ----------------------------------
from .admin_lifecycle import LIFECYCLE_ADMIN_ACTIONS  # noqa: E402

ContainerAdmin.actions = [*LIFECYCLE_ADMIN_ACTIONS]
# --- resources: admin actions (pull, ...) ------------------------------------------------------
from .forms_resources import RegistryCredentialAdminForm  # noqa: E402
from .views_resources import admin_operation_action  # noqa: E402

RegistryCredentialAdmin.form = RegistryCredentialAdminForm  # same address validation as portal and API
ImageAdmin.actions = [
    admin_operation_action("pull_again", "Pull the selected images' first tag again", "pull"),
    admin_operation_action("remove_images", "Remove the selected images", "remove_image"),
]
VolumeAdmin.actions = [admin_operation_action("remove_volumes", "Remove the selected volumes", "remove_volume")]
NetworkAdmin.actions = [admin_operation_action("remove_networks", "Remove the selected networks", "remove_network")]
