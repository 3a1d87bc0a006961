from django import forms
from django.core.exceptions import ValidationError

from apps.core.roles import Action
from apps.hosts.models import DockerHost

from .models import Backup, BackupSchedule, StorageTarget


def _hosts(user, team):
    qs = DockerHost.objects.for_user(user, Action.OPERATE)
    return qs.filter(team=team) if team else qs.none()


def _targets(user, team):
    qs = StorageTarget.objects.for_user(user, Action.VIEW)
    return qs.filter(team=team) if team else qs.none()


class BackupForm(forms.Form):
    host = forms.ModelChoiceField(queryset=DockerHost.objects.none())
    kind = forms.ChoiceField(choices=Backup.Kind.choices)
    target = forms.CharField(max_length=300, help_text="Volume, container, image or Compose stack name")
    encrypt = forms.BooleanField(required=False, help_text="AES-256-GCM with the team key")
    include_volumes = forms.BooleanField(required=False, help_text="Containers: back up their named volumes too")
    commit = forms.BooleanField(required=False, help_text="Containers: include a `docker commit` of the file system")
    incremental = forms.BooleanField(required=False, help_text="Volumes: only the files changed since the last full backup")
    storage_target = forms.ModelChoiceField(queryset=StorageTarget.objects.none(), required=False,
                                            empty_label="Local backup directory")

    def __init__(self, *args, user=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = _hosts(user, team)
        self.fields["storage_target"].queryset = _targets(user, team)


class RestoreForm(forms.Form):
    host = forms.ModelChoiceField(queryset=DockerHost.objects.none())
    target = forms.CharField(max_length=300, required=False, help_text="Name to restore into (empty: the original name)")
    overwrite = forms.BooleanField(required=False, help_text="Replace an existing volume/container of that name (admins only)")

    def __init__(self, *args, user=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = _hosts(user, team)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A file exported from a DockerForge backup")
    key = forms.FileField(required=False, help_text="Encrypted backups: the exported team key (.json), unless this team has it")
    storage_target = forms.ModelChoiceField(queryset=StorageTarget.objects.none(), required=False,
                                            empty_label="Local backup directory", help_text="Where the imported backup is kept")

    def __init__(self, *args, user=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["storage_target"].queryset = _targets(user, team)

    def clean_key(self):
        key = self.cleaned_data.get("key")
        return key.read(64 * 1024).decode("utf-8", "replace") if key else ""


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = BackupSchedule
        fields = ["name", "kind", "host", "target_name", "cron", "encrypt", "incremental", "storage_target", "enabled",
                  "keep_last", "keep_daily", "keep_weekly", "keep_monthly"]

    def __init__(self, *args, user=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = _hosts(user, team)
        self.fields["storage_target"].queryset = _targets(user, team)
        self.fields["storage_target"].empty_label = "Local backup directory"

    def clean_cron(self):
        from .schedules import parse_cron

        parse_cron(self.cleaned_data["cron"])
        return " ".join(self.cleaned_data["cron"].split())


class StorageTargetForm(forms.ModelForm):
    """A team's storage target. The secret key is write-only: left empty on edit, it is kept."""

    endpoint_url = forms.URLField(max_length=300, required=False, assume_scheme="https",
                                  help_text="S3: e.g. https://s3.eu-west-1.amazonaws.com or a MinIO URL")
    secret_key = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                                 help_text="Stored encrypted; leave empty to keep the current one")

    class Meta:
        model = StorageTarget
        fields = ["name", "kind", "endpoint_url", "bucket", "region", "access_key_id", "secret_key", "prefix"]

    def clean_name(self):
        # the portal's form has no team field, so the (team, name) constraint is checked here
        name = self.cleaned_data["name"].strip()
        team_id = self.instance.team_id if "team" not in self.fields else getattr(self.cleaned_data.get("team"), "pk", None)
        if team_id and StorageTarget.objects.filter(team_id=team_id, name=name).exclude(pk=self.instance.pk).exists():
            raise ValidationError("This team has a storage target of that name.")
        return name

    def clean(self):
        data = super().clean()
        if not data.get("secret_key") and self.instance.pk:
            data["secret_key"] = self.instance.secret_key
        from .storage import validate_target

        try:
            validate_target(data)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                for error in errors:
                    self.add_error(name if name in self.fields else None, error)
        return data
