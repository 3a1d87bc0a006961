"""Container create / edit / duplicate forms. They carry text; every rule lives in
create_spec.clean_changes, which the services run (the same path as the API), and
`add_spec_errors` puts its field errors back on the form."""

from django import forms
from django.core.exceptions import ValidationError

from apps.core.roles import Action
from apps.hosts.models import DockerHost

from . import create_spec

TEXT = {"rows": 3, "spellcheck": "false", "autocomplete": "off", "class": "mono"}
MAX = create_spec.MAX_TEXT


class ContainerSpecForm(forms.Form):
    image = forms.CharField(max_length=500, help_text="repository[:tag], e.g. nginx:1.27 or 127.0.0.1:5000/app:1.0")
    name = forms.CharField(max_length=128, required=False, help_text="Letters, digits, '_', '.', '-'. Empty: the engine picks one.")
    command = forms.CharField(max_length=MAX, required=False, help_text="Empty keeps the image's command. Split like a shell would; no shell runs.")
    env = forms.CharField(label="Environment", max_length=MAX, required=False, widget=forms.Textarea(TEXT), help_text="KEY=VALUE, one a line.")
    ports = forms.CharField(max_length=MAX, required=False, widget=forms.Textarea(TEXT), help_text="[ip:]host_port:container_port[/tcp|udp], one a line, e.g. 8080:80.")
    volumes = forms.CharField(max_length=MAX, required=False, widget=forms.Textarea(TEXT), help_text="volume:/path[:ro], one a line. Host paths (/src:/dst) are for team admins.")
    networks = forms.CharField(max_length=MAX, required=False, widget=forms.Textarea(TEXT), help_text="Network names, one a line; the first is the primary. Empty: the default bridge.")
    restart_policy = forms.CharField(max_length=30, required=False, initial="no", help_text="no, always, unless-stopped or on-failure[:N].")
    memory = forms.CharField(label="Memory limit", max_length=30, required=False, help_text="e.g. 256m or 1g. Empty: no limit.")
    cpus = forms.CharField(label="CPU limit", max_length=30, required=False, help_text="CPUs, e.g. 0.5 or 2. Empty: no limit.")
    labels = forms.CharField(max_length=MAX, required=False, widget=forms.Textarea(TEXT), help_text="KEY=VALUE, one a line.")

    spec_fields = create_spec.CHANGEABLE

    def spec_data(self, *, only_changed: bool = False) -> dict:
        """The fields create_spec understands (for edit: only the ones the person changed)."""
        names = [n for n in self.fields if n in self.spec_fields and not self.fields[n].disabled]
        if only_changed:
            names = [n for n in names if n in self.changed_data]
        return {n: self.cleaned_data.get(n, "") for n in names}

    def add_spec_errors(self, exc: ValidationError) -> None:
        """Field errors on their fields; the rest (policy checks, engine) above the form."""
        items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
        for key, messages in items:
            self.add_error(key if key in self.fields else None, messages)


class ContainerCreateForm(ContainerSpecForm):
    host = forms.ModelChoiceField(queryset=DockerHost.objects.none(), help_text="The Docker host to run it on.")

    field_order = ["host", "image", "name"]

    def __init__(self, *args, user=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        hosts = DockerHost.objects.for_user(user, Action.OPERATE)
        self.fields["host"].queryset = hosts.filter(team=team) if team is not None else hosts.none()


class ContainerEditForm(ContainerSpecForm):
    """Edit: the name stays (rename is its own action); only changed fields are applied."""

    health_seconds = forms.FloatField(
        label="Watch for (seconds)", required=False, min_value=0, max_value=3600,
        help_text="How long the new container must keep running before the old one is removed.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].disabled = True
        self.fields["name"].help_text = "Recreate keeps the name; rename is a separate action."


class ContainerDuplicateForm(ContainerSpecForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = True
        self.fields["name"].help_text = "The copy's name."

    def spec_data(self, *, only_changed: bool = False) -> dict:
        data = super().spec_data(only_changed=only_changed)
        data["name"] = self.cleaned_data["name"]  # always: the copy needs its own
        return data
