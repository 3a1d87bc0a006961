from django import forms

from .channels import SMTP_SECURITY, channel_type_choices
from .models import SEVERITY_CHOICES, Channel, Route
from .routing import GROUP_FIELDS
from .validation import parse_header_lines, validate_channel, validate_route

SECRET_WIDGET = forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})
KEEP = "Write-only. Leave blank to keep the stored value."


class ChannelForm(forms.Form):
    """Add or edit a channel. Secrets are never rendered back; blank keeps them. Rules live
    in validation.validate_channel (shared with the API and the admin)."""

    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(label="Type", choices=())
    enabled = forms.BooleanField(required=False, initial=True)
    url = forms.CharField(required=False, max_length=2000, label="URL", widget=SECRET_WIDGET,
                          help_text="Webhook, Slack or ntfy URL. " + KEEP)
    signing_secret = forms.CharField(required=False, max_length=200, widget=SECRET_WIDGET,
                                     help_text="Webhook HMAC-SHA256 secret; generated when blank. " + KEEP)
    headers = forms.CharField(required=False, max_length=5000, widget=forms.Textarea({"rows": 3, "autocomplete": "off"}),
                              help_text="One 'Name: value' per line (webhook, ntfy). " + KEEP)
    recipients = forms.CharField(required=False, max_length=5000, widget=forms.Textarea({"rows": 2}),
                                 help_text="Email: addresses, one per line or comma-separated.")
    from_email = forms.CharField(required=False, max_length=254, label="From address")
    smtp_host = forms.CharField(required=False, max_length=253, label="SMTP host",
                                help_text="Blank: the installation's mail server.")
    smtp_port = forms.IntegerField(required=False, min_value=1, max_value=65535, label="SMTP port")
    smtp_security = forms.ChoiceField(choices=SMTP_SECURITY, initial="starttls", label="SMTP security")
    smtp_username = forms.CharField(required=False, max_length=200, label="SMTP user name")
    password = forms.CharField(required=False, max_length=500, widget=SECRET_WIDGET, label="SMTP password", help_text=KEEP)
    rate_limit = forms.IntegerField(required=False, min_value=0, max_value=10000, initial=0,
                                    help_text="Messages per minute; 0 for no limit. Excess is folded into the next message.")
    rate_burst = forms.IntegerField(required=False, min_value=0, max_value=10000, initial=0,
                                    help_text="Bucket size; 0 means the per-minute limit.")

    def __init__(self, *args, team=None, instance: Channel | None = None, **kwargs):
        self.team, self.instance = team, instance
        if instance is not None:
            kwargs.setdefault("initial", {
                "name": instance.name, "kind": instance.kind, "enabled": instance.enabled,
                "rate_limit": instance.rate_limit, "rate_burst": instance.rate_burst,
                **{k: (", ".join(v) if isinstance(v, list) else v) for k, v in instance.config.items()},
            })
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = channel_type_choices()
        if instance is not None:
            self.fields["kind"].disabled = True

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        data = {
            "name": cleaned["name"], "kind": cleaned.get("kind") or (self.instance.kind if self.instance else ""),
            "enabled": cleaned.get("enabled"), "rate_limit": cleaned.get("rate_limit") or 0,
            "rate_burst": cleaned.get("rate_burst") or 0,
            "config": {k: cleaned.get(k) for k in ("recipients", "from_email", "smtp_host", "smtp_port", "smtp_security", "smtp_username")},
            "url": cleaned.get("url"), "password": cleaned.get("password"), "signing_secret": cleaned.get("signing_secret"),
            "headers": parse_header_lines(cleaned.get("headers") or ""),
        }
        self.values = validate_channel(data, team=self.team, instance=self.instance)
        return cleaned

    def save(self) -> Channel:
        channel = self.instance or Channel(team=self.team)
        for name, value in self.values.items():
            setattr(channel, name, value)
        channel.save()
        return channel


class RouteForm(forms.ModelForm):
    kinds = forms.CharField(required=False, max_length=5000, widget=forms.Textarea({"rows": 2}),
                            help_text="Event kinds, globs allowed, one per line: alert.*, host.down. Blank: all.")
    hosts = forms.CharField(required=False, max_length=5000, widget=forms.Textarea({"rows": 2}),
                            help_text="Host names or ids, globs allowed. Blank: any host.")
    labels = forms.CharField(required=False, max_length=5000, widget=forms.Textarea({"rows": 2}),
                             help_text="key=value per line (globs allowed in values); all must match.")
    group_by = forms.MultipleChoiceField(required=False, choices=[(f, f) for f in GROUP_FIELDS],
                                         widget=forms.CheckboxSelectMultiple, help_text="Default: rule and host.")
    min_severity = forms.ChoiceField(choices=SEVERITY_CHOICES, initial="info")
    digest_below = forms.ChoiceField(choices=[("", "No digest"), *SEVERITY_CHOICES], required=False)

    class Meta:
        model = Route
        fields = ["name", "order", "enabled", "stop", "channels", "kinds", "min_severity", "hosts", "labels", "group_by",
                  "group_wait", "group_interval", "repeat_interval", "quiet_start", "quiet_end", "quiet_bypass_severity",
                  "digest_below", "digest_interval"]
        widgets = {"channels": forms.CheckboxSelectMultiple, "quiet_start": forms.TimeInput({"type": "time"}),
                   "quiet_end": forms.TimeInput({"type": "time"})}

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team or (self.instance.team if self.instance.team_id else None)
        self.fields["channels"].queryset = Channel.objects.filter(team=self.team)
        self.fields["name"].validators = []
        if self.instance.pk:
            self.initial["kinds"] = "\n".join(self.instance.kinds)
            self.initial["hosts"] = "\n".join(self.instance.hosts)
            self.initial["labels"] = "\n".join(f"{k}={v}" for k, v in self.instance.labels.items())

    def validate_unique(self):
        pass  # validate_route says it with a clear message

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self.values = validate_route({**cleaned, "channels": list(cleaned.get("channels") or [])}, team=self.team,
                                     instance=self.instance if self.instance.pk else None)
        return cleaned

    def save(self, commit=True):
        route = self.instance
        route.team = self.team
        channels = self.values.pop("channels")
        for name, value in self.values.items():
            setattr(route, name, value)
        route.save()
        route.channels.set(channels)
        return route
