"""Office hours on the line's page: the settings, whether the line is open now, and its scheduled calls.

Scheduled calls (call-backs and reminders) are cancelled from the attempts list (the
selected ones) or the lines list (all of a line's).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import Action, ActionLocation
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from .. import targets
from ..hours import callbacks, offices, schedule
from ..models import CallAttempt, CampaignLine

HOURS_FIELDS = [
    "hours_status",
    "hours_enabled",
    "hours_days",
    "hours_opens",
    "hours_closes",
    "hours_time_zone",
    "hours_us_holidays",
    "upcoming_holidays",
    "hours_closed_dates",
    "hours_open_dates",
    "outside_hours",
    "reminder_count",
]


def line_status(line: CampaignLine, now: dt.datetime) -> tuple[bool, dt.datetime | None]:
    """Whether ``line`` is in its hours at ``now``, and its next opening (for its targets found without a caller)."""
    resolved = targets.resolve(line, {}).targets
    if offices.is_open(line, resolved, now):
        return True, None
    return False, offices.next_opening(line, resolved, now)


def scheduled(line: CampaignLine) -> QuerySet[CallAttempt]:
    return CallAttempt.objects.filter(line=line, outcome=CallAttempt.Outcome.SCHEDULED)


def preview_time(text: str) -> tuple[str, dt.datetime | None, str]:
    """The date and time a preview is for (``YYYY-MM-DDTHH:MM`` in the site's zone): as typed, read, and any error."""
    text = text.strip()[:32]
    if not text:
        return "", None, ""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return text, None, "Enter a date and time like 2026-12-07T09:30."
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return text, when, ""


def preview_summary(line: CampaignLine, resolved: list[Any], variables: dict[str, Any], at: dt.datetime | None) -> str:
    """What a request made at ``at`` would do on ``line``, as to its hours ("" when the line keeps none)."""
    if not line.hours_enabled:
        return ""
    at = at or timezone.now()
    if offices.is_open(line, resolved, at):
        closed = [t.name for t in resolved if not offices.for_target(line, t).is_open(at)]
        skipped = f" These offices are closed then and skipped: {', '.join(closed)}." if closed else ""
        return f"In the line's hours: the call is placed at once.{skipped}"
    if line.outside_hours == line.OutsideHours.CALL_NOW:
        return "Outside the line's hours: the call is placed all the same, and closed offices are skipped."
    if line.outside_hours == line.OutsideHours.REFUSE:
        return "Outside the line's hours: the request is refused (Sorry, there was an error.)."
    opening = offices.next_opening(line, resolved, at, offices.visitor_zone(variables, ""))
    when = timezone.localtime(opening).strftime("%a %d %b %Y, %H:%M %Z") if opening else "never (no opening ahead)"
    return f"Outside the line's hours: the call is scheduled for {when}."


class OfficeHoursLineAdminMixin:
    """An "Office hours" section on the line's page, and an action that cancels a line's scheduled calls."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "hours_status", "upcoming_holidays"]  # type: ignore[misc]

    def get_actions(self, request: HttpRequest, action_location=ActionLocation.CHANGE_LIST) -> dict:
        actions = super().get_actions(request, action_location=action_location)  # type: ignore[misc]
        return _with_cancel(actions, request, action_location, cancel_line_calls)

    @admin.display(description="Now")
    def hours_status(self, obj: CampaignLine | None) -> str:
        if obj is None or obj.pk is None:
            return "Save the line to see whether it is in its hours."
        waiting = scheduled(obj).count()
        opts = CallAttempt._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        query = urlencode({"line__id__exact": obj.pk, "outcome__exact": CallAttempt.Outcome.SCHEDULED})
        count = format_html("<a href='{}?{}'>{} call(s) scheduled</a>", url, query, waiting)
        if not obj.hours_enabled:
            return format_html("No office hours kept: calls go at any time. {}.", count)
        if obj.outside_hours == obj.OutsideHours.CALL_BACK and not callbacks.can_schedule():
            count = format_html(
                "{}. <strong>This site's task backend cannot run a call later: requests outside the hours "
                "are answered with an error (set DJANGO_TASKS_BACKEND=database and run manage.py db_worker)</strong>",
                count,
            )
        now = timezone.now()
        is_open, opening = line_status(obj, now)
        if is_open:
            return format_html("<strong>In its hours now.</strong> {}.", count)
        when = timezone.localtime(opening).strftime("%a %d %b %Y, %H:%M %Z") if opening else "none in the next 60 days"
        return format_html("<strong>Outside its hours now.</strong> Next opening: {}. {}.", when, count)

    @admin.display(description="US federal holidays ahead")
    def upcoming_holidays(self, obj: CampaignLine | None) -> str:
        today = timezone.localdate()
        days = {**schedule.us_holidays(today.year), **schedule.us_holidays(today.year + 1)}
        ahead = sorted((day, name) for day, name in days.items() if day >= today)[:6]
        return "; ".join(f"{day:%a %d %b %Y} {name}" for day, name in ahead)


CANCEL_PERMISSION = "clicktocall.change_callattempt"


def _cancel(modeladmin: Any, request: HttpRequest, attempts: QuerySet[CallAttempt]) -> None:
    if not request.user.has_perm(CANCEL_PERMISSION):
        raise PermissionDenied
    count = callbacks.cancel(attempts)
    modeladmin.message_user(request, f"{count} scheduled call(s) cancelled.", messages.SUCCESS)


@admin.action(description="Cancel the scheduled calls among the selected attempts")
def cancel_selected_calls(modeladmin: Any, request: HttpRequest, queryset: QuerySet[CallAttempt]) -> None:
    _cancel(modeladmin, request, queryset)


@admin.action(description="Cancel all scheduled calls of the selected lines")
def cancel_line_calls(modeladmin: Any, request: HttpRequest, queryset: QuerySet[CampaignLine]) -> None:
    _cancel(modeladmin, request, CallAttempt.objects.filter(line__in=queryset))


def _with_cancel(actions: dict, request: HttpRequest, location: Any, func: Any) -> dict:
    """``actions`` and ``func``, for staff who may change attempts, on the changelist."""
    if location == ActionLocation.CHANGE_LIST and request.user.has_perm(CANCEL_PERMISSION):
        name, description = func.__name__, func.short_description
        actions[name] = Action(
            func=func,
            name=name,
            description=description,
            plural_description=description,
            locations=[ActionLocation.CHANGE_LIST],
        )
    return actions


class ScheduledAttemptAdminMixin:
    """Cancelling scheduled calls from the attempts list."""

    def get_actions(self, request: HttpRequest, action_location=ActionLocation.CHANGE_LIST) -> dict:
        actions = super().get_actions(request, action_location=action_location)  # type: ignore[misc]
        return _with_cancel(actions, request, action_location, cancel_selected_calls)
