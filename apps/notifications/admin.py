import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.admin import ReadOnlyTeamScopedAdmin, TeamScopedAdmin

from . import services
from .channels import channel_type_choices
from .models import Channel, Delivery, DeliveryAttempt, NotificationGroup, NotificationItem, Route
from .validation import validate_channel, validate_route

SECRET = forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})
KEEP = "Write-only: leave blank to keep the stored value."


class ChannelAdminForm(forms.ModelForm):
    """Secrets are write-only here too; the rules are validation.validate_channel's."""

    kind = forms.ChoiceField(choices=())
    url = forms.CharField(required=False, max_length=2000, widget=SECRET, help_text=KEEP)
    password = forms.CharField(required=False, max_length=500, widget=SECRET, help_text=KEEP)
    signing_secret = forms.CharField(required=False, max_length=200, widget=SECRET, help_text=KEEP)
    headers = forms.CharField(required=False, max_length=5000, widget=forms.Textarea({"rows": 2}),
                              help_text='JSON object, e.g. {"Authorization": "Bearer ..."}. ' + KEEP)

    class Meta:
        model = Channel
        fields = ["team", "name", "kind", "enabled", "config", "url", "password", "signing_secret", "headers",
                  "rate_limit", "rate_burst"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = channel_type_choices()
        for name in ("url", "password", "signing_secret", "headers"):
            self.initial[name] = ""  # never send a stored secret back to the browser

    def validate_unique(self):
        pass  # validate_channel reports (team, name) clashes

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        headers = cleaned.get("headers") or ""
        try:
            headers = json.loads(headers) if headers.strip() else {}
        except ValueError:
            raise ValidationError({"headers": "Enter a JSON object."}) from None
        instance = self.instance if self.instance.pk else None
        self.values = validate_channel({**cleaned, "headers": headers}, team=cleaned.get("team"), instance=instance)
        return cleaned

    def save(self, commit=True):
        channel = super().save(commit=False)
        for name, value in self.values.items():
            setattr(channel, name, value)
        if commit:
            channel.save()
        return channel


@admin.register(Channel)
class ChannelAdmin(TeamScopedAdmin):
    form = ChannelAdminForm
    list_display = ("name", "team", "kind", "enabled", "url_hint", "rate_limit", "last_success_at", "last_error_at")
    list_filter = (*TeamScopedAdmin.list_filter, "kind", "enabled")
    search_fields = ("name", "last_error")
    readonly_fields = ("url_hint", "last_error", "last_error_at", "last_success_at", "created_at", "updated_at")
    actions = ["send_test"]

    @admin.action(description="Send test")
    def send_test(self, request, queryset):
        for channel in queryset:
            try:
                delivery = services.request_send_test(request.user, channel)
            except PermissionDenied as exc:
                self.message_user(request, f"{channel.name}: {exc}", messages.ERROR)
                continue
            level = messages.SUCCESS if delivery.status == Delivery.Status.DELIVERED else messages.ERROR
            self.message_user(request, f"{channel.name}: {delivery.status} {delivery.error}".strip(), level)


class RouteAdminForm(forms.ModelForm):
    class Meta:
        model = Route
        fields = "__all__"

    def validate_unique(self):
        pass

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            instance = self.instance if self.instance.pk else None
            values = validate_route({**cleaned, "channels": list(cleaned.get("channels") or [])},
                                    team=cleaned.get("team"), instance=instance)
            cleaned.update({k: v for k, v in values.items() if k != "channels"})
        return cleaned


@admin.register(Route)
class RouteAdmin(TeamScopedAdmin):
    form = RouteAdminForm
    list_display = ("name", "team", "order", "enabled", "min_severity", "digest_below")
    list_filter = (*TeamScopedAdmin.list_filter, "enabled", "min_severity")
    search_fields = ("name",)
    filter_horizontal = ("channels",)
    readonly_fields = ("created_at", "updated_at")


class ItemInline(admin.TabularInline):
    model = NotificationItem
    extra = 0
    can_delete = False
    fields = ("fingerprint", "status", "notified_status", "severity", "count", "first_at", "notified_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(NotificationGroup)
class NotificationGroupAdmin(ReadOnlyTeamScopedAdmin):
    list_display = ("__str__", "team", "digest", "next_flush_at", "last_notified_at")
    search_fields = ("route__name", "channel__name")
    readonly_fields = ("team", "route", "channel", "key", "labels", "digest", "next_flush_at", "last_flushed_at",
                       "last_notified_at", "claimed_until", "claimed_by", "created_at", "updated_at")
    inlines = [ItemInline]


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("number", "status", "response_code", "latency_ms", "retry_after", "error", "started_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyTeamScopedAdmin):
    list_display = ("id", "team", "channel", "subject", "status", "attempts", "response_code", "created_at")
    list_filter = (*TeamScopedAdmin.list_filter, "status", "is_test")
    search_fields = ("subject", "error", "channel__name")
    readonly_fields = ("team", "channel", "route", "group", "status", "is_test", "subject", "event_count", "folded_into",
                       "attempts", "next_attempt_at", "response_code", "error", "delivered_at", "created_at")
    exclude = ("message", "claimed_until")
    inlines = [AttemptInline]


class ItemAdminBase(ReadOnlyTeamScopedAdmin):
    team_path = "group__team"
    list_filter = ()

    def get_queryset(self, request):
        return self.model.objects.all().for_user(request.user).select_related("group__team")


@admin.register(NotificationItem)
class NotificationItemAdmin(ItemAdminBase):
    list_display = ("fingerprint", "group", "status", "notified_status", "count", "updated_at")
    list_filter = ("status",)
    search_fields = ("fingerprint",)
    readonly_fields = ("group", "fingerprint", "status", "severity", "envelope", "count", "notified_status", "notified_at",
                       "first_at", "updated_at")


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ItemAdminBase):
    team_path = "delivery__team"
    list_display = ("delivery", "number", "status", "response_code", "latency_ms", "started_at")
    list_filter = ("status",)
    readonly_fields = ("delivery", "number", "status", "response_code", "error", "latency_ms", "retry_after", "started_at")

    def get_queryset(self, request):
        return self.model.objects.all().for_user(request.user).select_related("delivery__team")
