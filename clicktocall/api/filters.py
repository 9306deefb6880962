"""The attempts' filters: line, outcome, status, a date range, and ``updated_since`` for incremental sync."""

from __future__ import annotations

import django_filters

from ..models import CallAttempt, CampaignLine


class AttemptFilter(django_filters.FilterSet):
    line = django_filters.ModelChoiceFilter(queryset=CampaignLine.objects.all(), help_text="A line's id.")
    outcome = django_filters.ChoiceFilter(choices=CallAttempt.Outcome.choices)
    status = django_filters.ChoiceFilter(choices=[c for c in CallAttempt.Status.choices if c[0]])
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Requested at or after this time (ISO 8601)."
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Requested before this time (ISO 8601)."
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gt",
        help_text="Changed after this time: pass the updated_at of the last attempt you read. "
        "The answer is then ordered by updated_at, oldest change first.",
    )

    class Meta:
        model = CallAttempt
        fields = ["line", "outcome", "status", "created_after", "created_before", "updated_since"]
