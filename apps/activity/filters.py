"""Filters for the activity feed page (the API can adopt the same FilterSet)."""

import django_filters
from django.db.models import Max

from apps.core.events import SEVERITIES

from .models import Event


class EventFilter(django_filters.FilterSet):
    kind = django_filters.CharFilter(
        lookup_expr="startswith", label="Kind starts with", max_length=100, help_text="e.g. host. or container.died"
    )
    severity = django_filters.ChoiceFilter(choices=[(s, s.capitalize()) for s in SEVERITIES], empty_label="Any severity")
    host = django_filters.ChoiceFilter(field_name="host_id", empty_label="Any host", label="Host")

    class Meta:
        model = Event
        fields = ["kind", "severity", "host"]

    def __init__(self, data=None, queryset=None, **kwargs):
        super().__init__(data, queryset=queryset, **kwargs)
        # Host choices come from the events the user can already see (activity does not
        # import hosts: it sits below it), newest name per host id.
        rows = (
            self.queryset.exclude(host_id=None)
            .order_by()
            .values("host_id")
            .annotate(name=Max("host_name"))
            .order_by("name")
        )
        self.filters["host"].extra["choices"] = [(row["host_id"], row["name"] or f"host {row['host_id']}") for row in rows]
