from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.utils import timezone

from apps.core.roles import Role

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


class TeamCreateForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "time_zone"]
        help_texts = TeamSettingsForm.Meta.help_texts


ROLE_CHOICES = Role.choices


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.VIEWER)


class TokenCreateForm(forms.Form):
    EXPIRY_CHOICES = [("", "Never"), ("7", "In 7 days"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]

    name = forms.CharField(max_length=100, help_text="What uses this token, e.g. “laptop CLI” or “CI”.")
    expires_in = forms.TypedChoiceField(
        choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False, label="Expires"
    )

    def expires_at(self):
        days = self.cleaned_data.get("expires_in")
        return timezone.now() + timedelta(days=days) if days else None


class InvitationSignupForm(UserCreationForm):
    """An invited visitor without an account picks a username and password."""

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ["username"]
