from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from apps.containers.models import Container
from apps.hosts.models import DockerHost

from .models import AlertRule, Silence
from .validation import format_selector, parse_selector, rule_errors


class SelectorField(forms.CharField):
    """Labels as 'app=web, tier' (a name alone: the label is present, any value)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault("help_text", "app=web, tier (a name alone matches any value)")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return format_selector(value) if isinstance(value, dict) else value

    def clean(self, value):
        text = super().clean(value)
        try:
            return parse_selector(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class TeamObjectsMixin:
    """Host and container choices of this team only."""

    def scope_choices(self, team):
        self.fields["host"].queryset = DockerHost.objects.filter(team=team)
        if "container" in self.fields:
            self.fields["container"].queryset = Container.objects.filter(team=team).present()


class RuleForm(TeamObjectsMixin, forms.ModelForm):
    label_selector = SelectorField(label="Label selector")

    class Meta:
        model = AlertRule
        fields = ["name", "kind", "enabled", "severity", "description", "scope", "host", "container", "label_selector",
                  "metric", "operator", "threshold", "hysteresis", "for_seconds", "event", "restart_count",
                  "restart_window_seconds", "resolve_after_seconds", "log_pattern", "trend", "horizon_seconds",
                  "fit_seconds", "sigmas"]

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.instance.team = team
        self.scope_choices(team)

    def clean(self):
        data = super().clean()
        for name, message in rule_errors(data, self.team).items():
            if name not in self.errors:
                self.add_error(name if name in self.fields else None, message)
        return data


class SilenceForm(TeamObjectsMixin, forms.ModelForm):
    label_selector = SelectorField(label="Labels")
    duration_minutes = forms.IntegerField(min_value=1, max_value=60 * 24 * 90, initial=120, label="For (minutes)")

    class Meta:
        model = Silence
        fields = ["rule", "host", "target_name", "label_selector", "comment"]

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.team = team
        self.scope_choices(team)
        self.fields["rule"].queryset = AlertRule.objects.filter(team=team)

    def clean_comment(self):
        comment = self.cleaned_data["comment"].strip()
        if len(comment) < 3:
            raise forms.ValidationError("Say why these alerts are silenced.")
        return comment

    def save(self, commit=True):
        silence = super().save(commit=False)
        silence.starts_at = timezone.now()
        silence.ends_at = silence.starts_at + timedelta(minutes=self.cleaned_data["duration_minutes"])
        if commit:
            silence.save()
        return silence
