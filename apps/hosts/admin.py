from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from apps.core.admin import TeamScopedAdmin

from . import services
from .forms import HostForm
from .models import DockerHost, HostLease

ENGINE_FACTS = (
    "status", "engine_version", "api_version", "engine_info", "last_checked_at", "last_seen_at", "last_error",
    "ssh_host_key", "ssh_host_key_fingerprint", "created_at", "updated_at",
)


class AdminHostForm(HostForm):
    """The portal's form (same validation module) plus the team, chosen among manageable teams."""

    class Meta(HostForm.Meta):
        fields = ["team", *HostForm.Meta.fields]


@admin.register(DockerHost)
class DockerHostAdmin(TeamScopedAdmin):
    form = AdminHostForm
    list_display = ("name", "team", "url", "status", "engine_version", "last_checked_at")
    list_filter = (*TeamScopedAdmin.list_filter, "status")
    search_fields = ("name", "url", "description", "engine_version")
    readonly_fields = ENGINE_FACTS
    actions = ["test_connection"]
    fieldsets = (
        (None, {"fields": ("team", "name", "url", "description")}),
        ("TLS (tcp:// hosts)", {"fields": ("tls_ca_cert", "tls_client_cert", "tls_client_key")}),
        ("SSH (ssh:// hosts)", {"fields": ("ssh_private_key", "repin_host_key", "ssh_host_key", "ssh_host_key_fingerprint")}),
        ("Engine", {"fields": ENGINE_FACTS[:7] + ENGINE_FACTS[9:]}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.scheme != "ssh":  # the form only offers re-pinning on ssh hosts
            fieldsets = [
                (title, {**opts, "fields": tuple(f for f in opts["fields"] if f != "repin_host_key")})
                for title, opts in fieldsets
            ]
        return fieldsets

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        # The validation needs who is acting (unix:// is for superusers only).
        return type(form.__name__, (form,), {"request_user": request.user})

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for host in queryset:
            try:
                result = services.request_test_connection(request.user, host)
            except PermissionDenied as exc:
                self.message_user(request, f"{host.name}: {exc}", messages.ERROR)
                continue
            if result.ok:
                self.message_user(request, f"{host.name}: up, Docker {result.info['version']}", messages.SUCCESS)
            else:
                self.message_user(request, f"{host.name}: down: {result.error}", messages.ERROR)


@admin.register(HostLease)
class HostLeaseAdmin(TeamScopedAdmin):
    team_path = "host__team"
    list_display = ("host", "kind", "holder", "expires_at")
    list_filter = ("kind",)
    search_fields = ("host__name", "holder")
    readonly_fields = ("host", "kind", "holder", "expires_at")

    def get_queryset(self, request):
        qs = HostLease.objects.select_related("host")
        if request.user.is_superuser:
            return qs
        return qs.filter(host__in=DockerHost.objects.for_user(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
