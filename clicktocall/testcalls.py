"""Test calls: staff ring their own phone with a line's call, as a visitor would be rung.

The call is recorded as an attempt marked ``is_test`` (left out of the results) and
placed through the configured telephony backend like any other; the limits that protect
visitors (cooldown, rates, daily cap) do not apply, the destination rules do. The number
is remembered per staff member for their next test call.
"""

from __future__ import annotations

from typing import Any

from . import calls, guards, phone
from .exceptions import ClickToCallError
from .models import CallAttempt, CampaignLine, StaffPhone


class TestCallRefused(ClickToCallError):
    """The number cannot be rung from this line; the message says why."""


def remembered_number(user: Any) -> str:
    """The number the user's last test call rang, or ""."""
    if not getattr(user, "pk", None):
        return ""
    return StaffPhone.objects.filter(user=user).values_list("phone_number", flat=True).first() or ""


def place_test_call(line: CampaignLine, number: str, user: Any) -> CallAttempt:
    """Ring ``number`` with ``line``'s call for ``user``; the attempt as recorded afterwards."""
    try:
        parsed = phone.parse(number)
    except phone.InvalidNumber:
        raise TestCallRefused("Enter your phone number with its area code, e.g. (617) 555-0123.") from None
    problem = guards.destination_problem(line, parsed)
    if problem:
        raise TestCallRefused(f"This line cannot call that number: {problem}.")
    e164 = phone.to_e164(parsed)
    StaffPhone.objects.update_or_create(user=user, defaults={"phone_number": e164})
    attempt = CallAttempt(
        line=line,
        phone=e164,
        name=user.get_full_name() or user.get_username(),
        submitted={"test_call_by": user.get_username()},
        is_test=True,
        outcome=calls.initial_outcome(),
    )
    if attempt.outcome == CallAttempt.Outcome.QUEUED:
        from .placement import record_and_enqueue

        record_and_enqueue(attempt)
    else:
        attempt.save()
        calls.place(attempt)
    attempt.refresh_from_db()
    return attempt


def last_test_call(line: CampaignLine, number: str) -> CallAttempt | None:
    """The latest test call of ``line`` to ``number``."""
    if not number:
        return None
    return CallAttempt.objects.filter(line=line, is_test=True, phone=number).order_by("-created_at", "-pk").first()
