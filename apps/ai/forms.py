from django import forms

from apps.core.registries import ai_providers

from .models import AIProviderSettings


def provider_choices():
    return [(name, name) for name, _cls in ai_providers.items()]


class AISettingsForm(forms.ModelForm):
    api_key = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                              help_text="Leave empty to keep the current key.")
    clear_key = forms.BooleanField(required=False, label="Remove the team's key")

    class Meta:
        model = AIProviderSettings
        fields = ["provider", "model", "api_key", "use_installation_key", "base_url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"] = forms.ChoiceField(choices=provider_choices())

    def clean_base_url(self):
        from urllib.parse import urlsplit

        from apps.core.outbound import OutboundAddressDenied, check_address

        url = (self.cleaned_data.get("base_url") or "").strip()
        if not url:
            return ""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise forms.ValidationError("Enter an http(s) URL.")
        try:
            check_address(parts.hostname, parts.port)
        except OutboundAddressDenied as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def save(self, commit=True):
        obj = super().save(commit=False)
        new_key = self.cleaned_data.get("api_key")
        if self.cleaned_data.get("clear_key"):
            obj.api_key = ""
        elif not new_key and self.instance.pk:
            obj.api_key = AIProviderSettings.objects.get(pk=self.instance.pk).api_key
        if commit:
            obj.save()
        return obj
