from django import forms
from django.contrib.auth.forms import AuthenticationForm

from . import ratelimit
from .models import Team


class RateLimitedAuthenticationForm(AuthenticationForm):
    """The login form, refusing further tries after too many failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "rate_limited": "Too many failed logins for this account or address. Wait a few minutes and try again.",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        addr = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        if ratelimit.is_limited(username, addr):
            raise forms.ValidationError(self.error_messages["rate_limited"], code="rate_limited")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            ratelimit.record_failure(username, addr)
            raise
        ratelimit.clear(username)
        return cleaned


class TeamSettingsForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "time_zone"]
        help_texts = {"time_zone": "IANA name, e.g. Europe/Berlin. Used for quiet hours and schedules."}
