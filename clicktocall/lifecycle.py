"""The life of a placed call, as the provider reports it: status, times, target legs.

Statuses only move forward (queued → initiated → ringing → in-progress → an end
status), whatever order the provider's callbacks arrive in and however often; an ended
call stays ended. Each change is recorded under a row lock and announced with
``signals.call_status_changed``, and the end of the call with ``signals.call_completed``.
"""

from __future__ import annotations

import datetime as dt
import logging
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from . import denormalized, signals
from .models import CallAttempt, CallLeg
from .targets import ResolvedTarget

if TYPE_CHECKING:
    from .callflow import CallFlow

logger = logging.getLogger("clicktocall.lifecycle")

Status = CallAttempt.Status
END_STATUSES = frozenset({Status.COMPLETED, Status.BUSY, Status.NO_ANSWER, Status.FAILED, Status.CANCELED})
RANK = {
    Status.NONE: 0,
    Status.QUEUED: 1,
    Status.INITIATED: 2,
    Status.RINGING: 3,
    Status.IN_PROGRESS: 4,
    **{status: 5 for status in END_STATUSES},
    Status.SIMULATED: 5,  # a call the console backend only described: nothing follows
}
STATUSES = frozenset(str(s) for s in RANK if s)

LEG_STATUSES = {
    "completed": CallLeg.Status.COMPLETED,
    "answered": CallLeg.Status.COMPLETED,
    "busy": CallLeg.Status.BUSY,
    "no-answer": CallLeg.Status.NO_ANSWER,
    "failed": CallLeg.Status.FAILED,
    "canceled": CallLeg.Status.CANCELED,
}


def parse_timestamp(value: str | None) -> dt.datetime | None:
    """Twilio's ``Timestamp`` (RFC 2822), or None when absent or unreadable."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when if timezone.is_aware(when) else timezone.make_aware(when, dt.UTC)


def parse_seconds(value: str | None) -> int | None:
    """A whole, non-negative number of seconds, or None."""
    if value is None or not str(value).strip().isdigit():
        return None
    seconds = int(str(value).strip())
    return seconds if seconds < 10**7 else None


def advance(
    attempt: CallAttempt,
    status: str,
    *,
    when: dt.datetime | None = None,
    duration: int | None = None,
    call_sid: str = "",
) -> bool:
    """Record that the call reached ``status``; return whether the status changed.

    Never moves the status backwards; a late ``in-progress`` still fills in the answer
    time of a call that already ended. ``attempt`` is updated in place.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown call status {status!r}")
    when = when or timezone.now()
    with transaction.atomic():
        current = CallAttempt.objects.select_for_update().get(pk=attempt.pk)
        old = current.status
        fields: list[str] = []
        if RANK[Status(status)] > RANK[Status(old)]:
            current.status = status
            fields.append("status")
        if status == Status.IN_PROGRESS and current.answered_at is None:
            current.answered_at = when
            fields.append("answered_at")
        if status in END_STATUSES and old not in END_STATUSES:
            current.ended_at = when
            fields.append("ended_at")
            if duration is not None:
                current.duration = duration
                fields.append("duration")
            if status == Status.COMPLETED and current.answered_at is None and duration:
                current.answered_at = when - dt.timedelta(seconds=duration)
                fields.append("answered_at")
        elif status in END_STATUSES and duration is not None and current.duration is None:
            current.duration = duration
            fields.append("duration")
        if call_sid and not current.provider_call_id:
            current.provider_call_id = call_sid[:64]
            fields.append("provider_call_id")
        if fields:
            current.save(update_fields=[*fields, "updated_at"])
        if status in END_STATUSES:
            current.legs.filter(status=CallLeg.Status.DIALING).update(status=CallLeg.Status.CANCELED, ended_at=when)
    for name in ("status", "answered_at", "ended_at", "duration", "provider_call_id", "updated_at"):
        setattr(attempt, name, getattr(current, name))
    changed = "status" in fields
    if changed:
        logger.info("attempt %s: %s -> %s", attempt.pk, old or "-", status)
        signals.call_status_changed.send(sender=CallAttempt, attempt=attempt, old_status=old, new_status=status)
        if status in END_STATUSES and old not in END_STATUSES:
            signals.call_completed.send(sender=CallAttempt, attempt=attempt)
    return changed


def start_leg(attempt: CallAttempt, position: int, target: ResolvedTarget, office: int = 0) -> CallLeg:
    """The leg that dials ``target`` at its office ``office`` (created once per position, however often asked)."""
    number = target.offices[min(office, len(target.offices) - 1)]
    leg, _ = CallLeg.objects.get_or_create(
        attempt=attempt,
        position=position,
        defaults={
            "target_id": target.target_id,
            "target_name": target.name[:255],
            "target_number": number.phone_number,
            "member_id": target.member_id,
            "office_id": number.office_id if target.member_id else "",
        },
    )
    return leg


def start_legs(attempt: CallAttempt, leg: int, flow: CallFlow, position: int, office: int = 0) -> None:
    """Start the leg numbered ``leg`` to the first target from ``position`` whose office is open, after
    recording a leg of its own for each closed one the call passes over (as ``CallFlow`` does)."""
    if office == 0:
        position, skipped = flow.open_from(position)
        now = timezone.now()
        for target in skipped:
            closed = start_leg(attempt, leg, target)
            if closed.status == CallLeg.Status.DIALING:
                closed.status, closed.ended_at = CallLeg.Status.CLOSED, now
                closed.save(update_fields=["status", "ended_at"])
            leg += 1
    if position < len(flow.targets):
        start_leg(attempt, leg, flow.targets[position], office)


def end_leg(
    attempt: CallAttempt, position: int, dial_status: str, *, duration: int | None = None, call_sid: str = ""
) -> CallLeg | None:
    """Record how the call to the target at ``position`` ended, and recount the attempt's connections.

    Under the attempt's row lock, so that concurrent callbacks of one call count each
    other's legs; a repeated callback recounts the same legs (``connected_legs`` is exact).
    """
    with transaction.atomic():
        list(CallAttempt.objects.select_for_update().filter(pk=attempt.pk).values_list("pk", flat=True))
        leg = CallLeg.objects.filter(attempt=attempt, position=position).select_related("target").order_by("pk").first()
        if leg is None:
            return None
        leg.status = LEG_STATUSES.get(dial_status, CallLeg.Status.FAILED)
        leg.ended_at = timezone.now()
        leg.duration = duration if duration is not None else leg.duration
        if call_sid:
            leg.provider_call_id = call_sid[:64]
        leg.save(update_fields=["status", "ended_at", "duration", "provider_call_id"])
        denormalized.count_connected(CallAttempt.objects.filter(pk=attempt.pk), CallLeg)
    return leg
