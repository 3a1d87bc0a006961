from django import forms

from apps.core.roles import Action
from apps.hosts.models import DockerHost

from .models import Backup, BackupSchedule


def _hosts(user, team):
    qs = DockerHost.objects.for_user(user, Action.OPERATE)
    return qs.filter(team=team) if team else qs.none()


class BackupForm(forms.Form):
    host = forms.ModelChoiceField(queryset=DockerHost.objects.none())
    kind = forms.ChoiceField(choices=Backup.Kind.choices)
    target = forms.CharField(max_length=300, help_text="Volume, container, image or Compose stack name")
    encrypt = forms.BooleanField(required=False, help_text="AES-256-GCM with the team key")
    include_volumes = forms.BooleanField(required=False, help_text="Containers: back up their named volumes too")
    commit = forms.BooleanField(required=False, help_text="Containers: include a `docker commit` of the file system")

    def __init__(self, *args, user=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = _hosts(user, team)


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

    def clean_key(self):
        key = self.cleaned_data.get("key")
        return key.read(64 * 1024).decode("utf-8", "replace") if key else ""


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = BackupSchedule
        fields = ["name", "kind", "host", "target_name", "cron", "encrypt", "enabled", "keep_last", "keep_daily", "keep_weekly", "keep_monthly"]

    def __init__(self, *args, user=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = _hosts(user, team)

    def clean_cron(self):
        from .schedules import parse_cron

        parse_cron(self.cleaned_data["cron"])
        return " ".join(self.cleaned_data["cron"].split())
