from django import forms

from .models import DockerHost
from .validation import PEM_MAX, SECRET_FIELDS, URL_MAX, validate_host

PEM_ATTRS = {"rows": 4, "spellcheck": "false", "autocomplete": "off", "class": "mono"}


class HostForm(forms.ModelForm):
    """Register or edit a host. Secrets are write-only: never rendered, blank keeps them.

    All rules live in validation.validate_host (shared with the admin and the API).
    """

    # Generous limits on the raw input so a 100 kB paste becomes a field error, not a 500.
    url = forms.CharField(max_length=URL_MAX, label="Engine URL", help_text=DockerHost._meta.get_field("url").help_text)
    tls_ca_cert = forms.CharField(required=False, max_length=PEM_MAX, label="TLS CA certificate", widget=forms.Textarea(PEM_ATTRS))
    tls_client_cert = forms.CharField(required=False, max_length=PEM_MAX, label="TLS client certificate", widget=forms.Textarea(PEM_ATTRS))
    tls_client_key = forms.CharField(
        required=False, max_length=PEM_MAX, label="TLS client key", widget=forms.Textarea(PEM_ATTRS),
        help_text="Write-only. Leave blank to keep the stored key.",
    )
    ssh_private_key = forms.CharField(
        required=False, max_length=PEM_MAX, label="SSH private key", widget=forms.Textarea(PEM_ATTRS),
        help_text="Write-only, unencrypted OpenSSH or PEM key. Leave blank to keep the stored key. "
        "The server's host key is pinned when the host is added.",
    )
    repin_host_key = forms.BooleanField(
        required=False, label="Re-pin the SSH host key", help_text="Only if the server's host key really changed."
    )

    team_field = None  # the admin form adds "team"; the portal passes the current team

    class Meta:
        model = DockerHost
        fields = ["name", "url", "description", "tls_ca_cert", "tls_client_cert", "tls_client_key", "ssh_private_key"]

    def __init__(self, *args, user=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user if user is not None else getattr(self, "request_user", None)
        self.team = team
        for name in SECRET_FIELDS:
            self.initial[name] = ""  # never send a stored secret back to the browser
        if not self.instance.pk or self.instance.scheme != "ssh":
            self.fields.pop("repin_host_key")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        team = self.team or cleaned.get("team") or (self.instance.team if self.instance.team_id else None)
        values = validate_host(
            cleaned, user=self.user, team=team, instance=self.instance if self.instance.pk else None,
            repin=cleaned.get("repin_host_key", False),
        )
        self.pinned = {k: values.pop(k) for k in ("ssh_host_key", "ssh_host_key_fingerprint")}
        cleaned.update(values)
        return cleaned

    def save(self, commit=True):
        host = super().save(commit=False)
        for name, value in self.pinned.items():
            setattr(host, name, value)
        for name in SECRET_FIELDS:
            setattr(host, name, self.cleaned_data[name])
        if self.team is not None:
            host.team = self.team
        if commit:
            host.save()
        return host
