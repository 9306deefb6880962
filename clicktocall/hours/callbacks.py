"""Calls placed later: call-backs at opening, reminders, and their cancellation.

A request outside the hours on a line set to call back is recorded with the outcome
``scheduled`` and the instant it is due (``scheduled_for``), and ``place_attempt`` is
enqueued to run then (``run_after``): the task is stored in the database, so it
survives restarts, and the worker claims the attempt with the same conditional UPDATE
as queued calls, so it is placed once. Calls due at the same opening are spread out at
the provider's rate (``CLICKTOCALL_PROVIDER_CPS`` calls a second).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone

from .. import targets as target_sources
from ..conf import conf
from ..models import CallAttempt, CampaignLine
from . import offices, schedule

if TYPE_CHECKING:
    from ..calls import Result

logger = logging.getLogger("clicktocall.hours")

SPREAD_WINDOW = dt.timedelta(hours=6)  # calls due within this long after an opening share its queue
LATE = dt.timedelta(minutes=15)  # a scheduled call run later than this is checked against the hours again
# What a reminder keeps of the request that asked for the first call.
REQUEST_FIELDS = ("phone", "name", "email", "variables", "submitted", "client_ip", "user_agent", "referrer")


def outside_hours(
    line: CampaignLine, variables: Mapping[str, Any], phone: str, now: dt.datetime | None = None
) -> tuple[bool, dt.datetime | None]:
    """Whether a request on ``line`` now is outside its hours, and when to call back (None: no opening ahead)."""
    now = now or timezone.now()
    resolved = target_sources.resolve(line, variables).targets
    if offices.is_open(line, resolved, now):
        return False, None
    return True, offices.next_opening(line, resolved, now, offices.visitor_zone(variables, phone))


def slot(opening: dt.datetime) -> dt.datetime:
    """When a call due at ``opening`` is placed: after those already due then, one per 1/CPS seconds."""
    taken = CallAttempt.objects.filter(
        outcome=CallAttempt.Outcome.SCHEDULED, scheduled_for__gte=opening, scheduled_for__lt=opening + SPREAD_WINDOW
    ).count()
    return opening + dt.timedelta(seconds=taken / conf.PROVIDER_CPS if conf.PROVIDER_CPS else 0)


def can_schedule() -> bool:
    """Whether the task backend runs tasks at a later time (``run_after``), as call-backs need."""
    from ..placement import place_attempt

    try:
        return bool(place_attempt.get_backend().supports_defer)
    except Exception:  # a misconfigured backend: Django's checks report it
        return False


def schedule_attempt(attempt: CallAttempt, opening: dt.datetime) -> Result:
    """Record ``attempt`` as scheduled at its slot after ``opening`` and enqueue its placement then."""
    from ..calls import Outcome, Result
    from ..placement import enqueue_at

    attempt.outcome = CallAttempt.Outcome.SCHEDULED
    attempt.scheduled_for = slot(opening)
    attempt.save()
    if not enqueue_at(attempt, attempt.scheduled_for):
        return Result(Outcome.ERROR, attempt.line, attempt)
    logger.info("attempt %s: scheduled for %s", attempt.pk, attempt.scheduled_for.isoformat())
    return Result(Outcome.PLACED, attempt.line, attempt)


def not_due(attempt: CallAttempt, now: dt.datetime) -> dt.datetime | None:
    """When a scheduled call that the worker runs late (at ``now``) should go instead, because the
    offices have shut or it is night for the visitor meanwhile; None when it may be placed now."""
    line = attempt.line
    if attempt.scheduled_for is None or not line.hours_enabled or now - attempt.scheduled_for < LATE:
        return None
    resolved = target_sources.resolve(line, attempt.variables).targets
    opening = offices.next_opening(line, resolved, now, offices.visitor_zone(attempt.variables, attempt.phone))
    return None if opening is None or opening <= now else opening


def next_weekday(at: dt.datetime, tz_name: str) -> dt.datetime:
    """The same local time as ``at`` on the next weekday (Monday to Friday) in ``tz_name``."""
    tz = schedule.zone(tz_name)
    local = at.astimezone(tz)
    day = local.date() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return schedule.local_instant(day, local.time().replace(tzinfo=None), tz)


def remind(attempt: CallAttempt) -> CallAttempt | None:
    """Schedule the next reminder after ``attempt``'s call, unless the line's count is reached."""
    line = attempt.line
    if attempt.reminder >= line.reminder_count or not attempt.phone:
        return None
    waiting = CallAttempt.objects.filter(
        line=line, phone=attempt.phone, outcome=CallAttempt.Outcome.SCHEDULED, reminder__gt=0
    ).first()
    if waiting is not None:  # a repeated key press, or a chain already running: one reminder at a time
        return waiting
    zone = offices.visitor_zone(attempt.variables, attempt.phone) or offices.line_zone(line)
    when = next_weekday(attempt.scheduled_for or attempt.created_at, zone)
    if line.hours_enabled:
        resolved = target_sources.resolve(line, attempt.variables).targets
        when = offices.next_opening(line, resolved, when, zone) or when
    following = CallAttempt(
        line=line, reminder=attempt.reminder + 1, **{name: getattr(attempt, name) for name in REQUEST_FIELDS}
    )
    schedule_attempt(following, when)
    return following


def cancel(attempts: QuerySet[CallAttempt], detail: str = "cancelled by staff") -> int:
    """Cancel the scheduled calls among ``attempts``; how many were."""
    return attempts.filter(outcome=CallAttempt.Outcome.SCHEDULED).update(
        outcome=CallAttempt.Outcome.CANCELED, error_detail=detail, updated_at=timezone.now()
    )


def cancel_for_phone(phone: str, detail: str) -> int:
    """Cancel every scheduled call to ``phone`` (the person opted out)."""
    return cancel(CallAttempt.objects.filter(phone=phone), detail) if phone else 0
