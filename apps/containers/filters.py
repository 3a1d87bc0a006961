"""One FilterSet per mirror model, shared by the pages and the API (DESIGN.md).

The queryset handed in is already scoped (`for_user`); these only narrow and sort it.
Bad input (an unknown state, a host of another team, a malformed label) is a field error
on the form (pages) or a 400 with field details (API), never a 500.
"""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact
from django.utils import timezone

from apps.core.roles import Action
from apps.hosts.models import DockerHost

from .models import Container, Image, Network, Volume

# Removed rows stay visible (greyed) this long in the default list view.
REMOVED_VISIBLE = timedelta(hours=24)
LABEL_MAX = 500


def _user_hosts(request):
    if request is None or not getattr(request, "user", None):
        return DockerHost.objects.none()
    hosts = DockerHost.objects.for_user(request.user, Action.VIEW)
    team = getattr(request, "team", None)
    # Pages follow the team switcher; the API sees every team of the user.
    if team is not None and not hasattr(request, "query_params"):  # query_params: a DRF request
        hosts = hosts.filter(team=team)
    return hosts.order_by("name")


def parse_label(value: str) -> tuple[str, str | None]:
    """"key=value" or "key" (present with any value)."""
    key, sep, val = value.partition("=")
    key = key.strip()
    if not key:
        raise forms.ValidationError("Give a label as key=value or key.")
    return key, (val if sep else None)


class LabelField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value:
            parse_label(value)
        return value


class LabelFilter(django_filters.CharFilter):
    field_class = LabelField

    def filter(self, qs, value):
        if not value:
            return qs
        key, val = parse_label(value)
        if val is None:
            return qs.filter(labels__has_key=key)
        # An expression, not labels__<key>: label keys may contain "__" and dots.
        return qs.filter(labels__has_key=key).filter(Exact(KeyTextTransform(key, "labels"), val))


class MirrorFilterSet(django_filters.FilterSet):
    """Host, label, search and the removed-rows toggle every mirror list has."""

    SEARCH_FIELDS: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="search", label="Search", max_length=200)
    host = django_filters.ModelChoiceFilter(queryset=_user_hosts, empty_label="Any host")
    label = LabelFilter(label="Label", max_length=LABEL_MAX, help_text="key=value or key")
    removed = django_filters.ChoiceFilter(
        method="filter_removed",
        label="Removed",
        empty_label="Present and recently removed",
        choices=[("hide", "Hide removed"), ("only", "Only removed"), ("all", "All, including long removed")],
    )

    def search(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        cond = Q()
        for field in self.SEARCH_FIELDS:
            cond |= Q(**{field: value})
        return qs.filter(cond)

    def filter_removed(self, qs, name, value):
        return qs  # applied in `qs` below so the default (no value) applies too

    @property
    def qs(self):
        qs = super().qs
        choice = self.form.cleaned_data.get("removed") if self.is_bound and self.form.is_valid() else ""
        if choice == "hide":
            return qs.filter(removed_at__isnull=True)
        if choice == "only":
            return qs.filter(removed_at__isnull=False)
        if choice == "all":
            return qs
        return qs.filter(Q(removed_at__isnull=True) | Q(removed_at__gte=timezone.now() - REMOVED_VISIBLE))


class ContainerFilter(MirrorFilterSet):
    SEARCH_FIELDS = ("name__icontains", "image__icontains", "docker_id__startswith", "compose_project__icontains")

    state = django_filters.ChoiceFilter(choices=Container.State.choices, empty_label="Any state")
    image = django_filters.CharFilter(lookup_expr="icontains", max_length=500)
    stack = django_filters.CharFilter(field_name="compose_project", label="Stack (compose project)", max_length=255)
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("state", "state"), ("image", "image"), ("host__name", "host"),
                ("engine_created_at", "created"), ("started_at", "started")),
        label="Sort by",
    )

    class Meta:
        model = Container
        fields = ["q", "host", "state", "label", "image", "stack", "removed"]


class ImageFilter(MirrorFilterSet):
    SEARCH_FIELDS = ("tags_text__icontains", "docker_id__icontains")

    dangling = django_filters.BooleanFilter(method="filter_dangling", label="Untagged only")
    ordering = django_filters.OrderingFilter(
        fields=(("tags_text", "tags"), ("size", "size"), ("engine_created_at", "created"), ("host__name", "host")),
        label="Sort by",
    )

    class Meta:
        model = Image
        fields = ["q", "host", "label", "dangling", "removed"]

    def filter_dangling(self, qs, name, value):
        if value is None:
            return qs
        return qs.filter(tags_text="") if value else qs.exclude(tags_text="")


class VolumeFilter(MirrorFilterSet):
    SEARCH_FIELDS = ("name__icontains",)

    driver = django_filters.CharFilter(max_length=100)
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("driver", "driver"), ("engine_created_at", "created"), ("host__name", "host")),
        label="Sort by",
    )

    class Meta:
        model = Volume
        fields = ["q", "host", "driver", "label", "removed"]


class NetworkFilter(MirrorFilterSet):
    SEARCH_FIELDS = ("name__icontains", "docker_id__startswith")

    driver = django_filters.CharFilter(max_length=100)
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("driver", "driver"), ("engine_created_at", "created"), ("host__name", "host")),
        label="Sort by",
    )

    class Meta:
        model = Network
        fields = ["q", "host", "driver", "label", "removed"]
