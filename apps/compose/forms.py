from django import forms

from apps.core.roles import Action
from apps.hosts.models import DockerHost

from .files import MAX_FILE_BYTES


class StackForm(forms.Form):
    host = forms.ModelChoiceField(queryset=DockerHost.objects.none())
    name = forms.CharField(max_length=63, help_text="Lower-case letters, digits, '-' and '_'")
    compose = forms.CharField(widget=forms.Textarea(attrs={"rows": 20, "spellcheck": "false", "class": "code"}), max_length=MAX_FILE_BYTES)
    env = forms.CharField(widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "class": "code"}), required=False,
                          max_length=MAX_FILE_BYTES, label=".env")

    def __init__(self, *args, user=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = DockerHost.objects.for_user(user, Action.MANAGE).filter(team=team)


class EditForm(forms.Form):
    compose = forms.CharField(widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}), max_length=MAX_FILE_BYTES)
    comment = forms.CharField(max_length=300, required=False)


class EnvForm(forms.Form):
    env = forms.CharField(widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}), required=False,
                          max_length=MAX_FILE_BYTES, label=".env",
                          help_text="Values are masked; leave a line as KEY=•••••• to keep its value.")
    comment = forms.CharField(max_length=300, required=False)


class DeployForm(forms.Form):
    host = forms.ModelChoiceField(queryset=DockerHost.objects.none())
    name = forms.CharField(max_length=63)
    up = forms.BooleanField(required=False, initial=True, label="Start it now")

    def __init__(self, *args, user=None, team=None, variables=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = DockerHost.objects.for_user(user, Action.MANAGE).filter(team=team)
        for var in variables:
            widget = forms.PasswordInput(render_value=False) if var.get("secret") else forms.TextInput
            self.fields[f"var_{var['name']}"] = forms.CharField(label=var["name"], required=False, initial=var.get("default", ""),
                                                                help_text=var.get("description", ""), widget=widget)

    def variables(self) -> dict:
        return {k.removeprefix("var_"): v for k, v in self.cleaned_data.items() if k.startswith("var_")}
