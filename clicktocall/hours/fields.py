"""Model and form fields of office hours: the days of the week, as check boxes."""

from __future__ import annotations

import functools
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

DAY_CHOICES = [
    ("1", _("Monday")),
    ("2", _("Tuesday")),
    ("3", _("Wednesday")),
    ("4", _("Thursday")),
    ("5", _("Friday")),
    ("6", _("Saturday")),
    ("7", _("Sunday")),
]


class WeekdaysFormField(forms.MultipleChoiceField):
    """Check boxes for the days of the week; cleans to a string of ISO day digits ("12345")."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, max_length: int | None = None, empty_value: Any = "", **kwargs: Any) -> None:
        kwargs.pop("choices", None)
        super().__init__(choices=DAY_CHOICES, **kwargs)

    def prepare_value(self, value: Any) -> list[str]:
        if isinstance(value, str):
            return [ch for ch in value if ch in "1234567"]
        return list(value or [])

    def clean(self, value: Any) -> str:
        return "".join(sorted(set(super().clean(value))))


class WeekdaysField(models.CharField):
    """The days of the week, stored as ISO digits (1 Monday … 7 Sunday)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 7)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs: Any) -> forms.Field:
        kwargs.pop("widget", None)
        return super().formfield(**{"form_class": WeekdaysFormField, "choices_form_class": None, **kwargs})


def validate_time_zone(value: str) -> None:
    if value and value not in _zones():
        raise ValidationError(_("%(zone)s is not a time zone name (e.g. America/Chicago)."), params={"zone": value})


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_dates(value: str) -> None:
    from .schedule import parse_dates

    _dates, bad = parse_dates(value)
    if bad:
        raise ValidationError(
            _("Write one date per line as YYYY-MM-DD (a note may follow): %(bad)s"), params={"bad": ", ".join(bad)}
        )
