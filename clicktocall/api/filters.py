"""The attempts' filters: line, outcome, status, a date range, and ``updated_since`` for incremental sync."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from ..models import CallAttempt, CampaignLine


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, in UTC: any offset is accepted, and databases are given one they all take."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("Enter a time between the years 1 and 9999.", code="invalid") from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class AttemptFilter(django_filters.FilterSet):
    line = django_filters.ModelChoiceFilter(queryset=CampaignLine.objects.all(), help_text="A line's id.")
    outcome = django_filters.ChoiceFilter(choices=CallAttempt.Outcome.choices)
    status = django_filters.ChoiceFilter(choices=[c for c in CallAttempt.Status.choices if c[0]])
    created_after = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Requested at or after this time (ISO 8601)."
    )
    created_before = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Requested before this time (ISO 8601)."
    )
    updated_since = UTCDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gt",
        help_text="Changed after this time: pass the updated_at of the last attempt you read. "
        "The answer is then ordered by updated_at, oldest change first.",
    )

    class Meta:
        model = CallAttempt
        fields = ["line", "outcome", "status", "created_after", "created_before", "updated_since"]
