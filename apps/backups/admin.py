from django.contrib import admin

from apps.core.admin import TeamScopedAdmin
from apps.core.roles import Action

from . import schedules, services
from .forms import StorageTargetForm
from .models import Backup, BackupKey, BackupSchedule, Restore, StorageTarget


@admin.register(Backup)
class BackupAdmin(TeamScopedAdmin):
    list_display = ("__str__", "kind", "mode", "host", "team", "status", "size", "encrypted", "verify_ok", "flagged", "created_at")
    list_filter = TeamScopedAdmin.list_filter + ("kind", "mode", "status", "verify_ok", "encrypted")
    search_fields = ("target_name",)
    readonly_fields = [f.name for f in Backup._meta.fields]
    actions = ["verify"]

    def has_add_permission(self, request):
        return False  # backups are made by Operations

    @admin.action(description="Verify the selected backups")
    def verify(self, request, queryset):
        for backup in queryset.for_user(request.user, Action.OPERATE):
            try:
                services.request_verify(request.user, backup)
            except Exception as exc:  # noqa: BLE001 - reported per backup
                self.message_user(request, f"{backup}: {exc}", level="error")


@admin.register(Restore)
class RestoreAdmin(TeamScopedAdmin):
    list_display = ("__str__", "host", "team", "overwrite", "status", "created_at")
    list_filter = TeamScopedAdmin.list_filter + ("status", "overwrite")
    search_fields = ("target_name", "backup__target_name")
    readonly_fields = [f.name for f in Restore._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BackupKey)
class BackupKeyAdmin(TeamScopedAdmin):
    list_display = ("key_id", "team", "active", "created_at")
    exclude = ("secret",)  # exported from the backups page by admins, never shown here
    readonly_fields = ("key_id", "created_at")

    def has_add_permission(self, request):
        return False


@admin.register(BackupSchedule)
class BackupScheduleAdmin(TeamScopedAdmin):
    list_display = ("name", "team", "kind", "host", "target_name", "cron", "incremental", "storage_target", "enabled", "keep_last")
    list_filter = TeamScopedAdmin.list_filter + ("kind", "enabled")
    search_fields = ("name", "target_name")
    exclude = ("periodic_task",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        schedules.sync_periodic_task(obj)


@admin.register(StorageTarget)
class StorageTargetAdmin(TeamScopedAdmin):
    form = StorageTargetForm  # the secret key is write-only there
    fields = ("team", "name", "kind", "endpoint_url", "bucket", "region", "access_key_id", "secret_key", "prefix")
    list_display = ("name", "team", "kind", "endpoint_url", "bucket", "prefix")
    list_filter = TeamScopedAdmin.list_filter + ("kind",)
    search_fields = ("name", "bucket")
