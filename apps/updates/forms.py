"""Portal forms: one container's (or the team default) update policy, and the team's
auto-update windows. Validation lives on the models (regexes, time zone, weekdays); the forms
add what needs the team (a window's name is unique in it)."""

from __future__ import annotations

from django import forms

from .models import UpdatePolicy, UpdateWindow

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class PolicyForm(forms.ModelForm):
    class Meta:
        model = UpdatePolicy
        fields = ["strategy", "include_regex", "exclude_regex", "allow_prerelease", "monitor_only", "auto_update", "health_seconds"]
        labels = {"allow_prerelease": "Offer pre-releases", "monitor_only": "Monitor only",
                  "auto_update": "Update automatically in the team's windows", "health_seconds": "Health gate (seconds)"}
        widgets = {"strategy": forms.RadioSelect}


class WindowForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(choices=WEEKDAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
                                              help_text="None ticked: every day")

    class Meta:
        model = UpdateWindow
        fields = ["name", "weekdays", "start", "duration_minutes", "time_zone", "enabled"]
        labels = {"start": "Opens at (HH:MM)", "duration_minutes": "Open for (minutes)"}
        widgets = {"start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = UpdateWindow.objects.filter(team=self.team, name=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("The team already has a window with this name.")
        return name

    def clean_weekdays(self) -> list[int]:
        return sorted(set(self.cleaned_data["weekdays"]))
