"""Placing calls off the request path, with Django's Tasks framework.

With ``CLICKTOCALL_PLACEMENT = "queued"`` an accepted request records its attempt with
the outcome ``queued`` and enqueues ``place_attempt``; the endpoint answers success
once the task is safely stored. A worker (``manage.py db_worker`` with the
``django_tasks_db`` backend; the immediate backend runs the task at once) then:

1. claims the attempt with one conditional ``UPDATE … WHERE outcome = 'queued'``: only
   the run that changes the row places the call, so a task that runs twice (a duplicate,
   a redelivery, two workers) never places a second call for one attempt;
2. checks again that the line is on and the number not blocked (staff may have switched
   the line off, or the person opted out, while the call waited): if not, the attempt is
   recorded ``inactive`` or ``blocked``, no call is placed and its limits are given back;
3. waits for the provider's turn (``pacing``: calls spaced to ``CLICKTOCALL_PROVIDER_CPS``
   across every worker); a call that has waited longer than ``CLICKTOCALL_MAX_QUEUE_WAIT``
   since its request (a call-back: since it was due) is not placed but recorded
   ``expired``, and its limits are given back;
4. asks the telephony backend to place the call;
5. on a transient provider error (``TelephonyError.transient``), hands the attempt back
   (``queued``) and enqueues a retry after a backoff that doubles each time
   (``CLICKTOCALL_PLACEMENT_BACKOFF`` seconds first, at most
   ``CLICKTOCALL_PLACEMENT_RETRIES`` retries); after the last one, or on a permanent
   error, the attempt's outcome is ``error`` with the provider's answer as its detail.

A failure after the request reached the provider (a read timeout, a connection dropped
while waiting for its answer: ``TelephonyError.ambiguous``) is never retried: the call
may exist, and a second try could ring the person twice. The attempt is recorded
``unknown`` and its limits stay spent; the call's status callback settles it as placed.

Scheduled calls (a call-back outside office hours, a reminder; see ``clicktocall.hours``)
are recorded ``scheduled`` and their task runs at the instant they are due; the worker
claims them the same way, also checks the line's daily cap of the day they are placed,
and moves one it runs late (the worker was down) to the next opening when the offices
have closed or it is night for the caller meanwhile. After a reminder is placed, the next
one is scheduled, up to the line's count.

A retry finds the call already placed when the provider reported it (its status
callback sets the attempt's status) after a failure that only looked transient; it
then records the attempt as placed instead of calling again. A worker
that dies between the claim and the provider's answer leaves the attempt ``pending``:
it is not retried, since the provider may already have placed the call.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import router, transaction
from django.tasks import task
from django.utils import timezone

from . import blocklist, guards, limits, logs, pacing
from .conf import conf
from .exceptions import TelephonyError
from .hours import callbacks
from .models import CallAttempt

logger = logging.getLogger("clicktocall.placement")

MAX_DELAY = 600.0  # seconds; the longest wait between two tries


def backoff(try_number: int) -> float:
    """Seconds to wait after the ``try_number``-th failed try (1, 2, …): base, 2×base, 4×base…"""
    return min(MAX_DELAY, conf.PLACEMENT_BACKOFF * (2 ** max(0, try_number - 1)))


WAITING = (CallAttempt.Outcome.QUEUED, CallAttempt.Outcome.SCHEDULED)


def claim(attempt_id: int) -> bool:
    """Take a queued or scheduled attempt for placement; True for exactly one caller per attempt."""
    updated = CallAttempt.objects.filter(pk=attempt_id, outcome__in=WAITING).update(
        outcome=CallAttempt.Outcome.PENDING, updated_at=timezone.now()
    )
    return updated == 1


def enqueue_at(attempt: CallAttempt, when) -> bool:
    """Queue a scheduled attempt's placement to run at ``when``; False (recorded as a failure) when it cannot be."""
    from .calls import _save_failure

    try:
        place_attempt.using(run_after=when).enqueue(attempt.pk)
    except Exception as exc:  # the queue is down, or its backend cannot defer tasks
        logger.exception("attempt %s: could not schedule the placement", attempt.pk)
        _save_failure(attempt, f"could not schedule the placement: {exc.__class__.__name__}: {exc}", our_side=True)
        return False
    return True


def _stored_with_attempts(backend) -> bool:
    """Whether the task backend stores tasks in the attempts' database (so one transaction holds both)."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the database backend is a dependency
        return False
    return isinstance(backend, DatabaseBackend) and router.db_for_write(DBTaskResult) == router.db_for_write(
        CallAttempt
    )


def record_and_enqueue(attempt: CallAttempt):
    """Record a new (``queued``) attempt and queue its placement; answer success once both are stored.

    An attempt the INSERT found blocked (``blocklist.mark_if_blocked``) is recorded, not queued.

    With tasks kept in the same database, the attempt and its task are written together:
    by one statement on PostgreSQL (``together``), else in one transaction; one commit,
    and never an attempt without its task. With any other backend the attempt is
    committed first, so that a worker finds it.
    """
    from . import together
    from .calls import Outcome, Result, _save_failure

    try:
        using = router.db_for_write(CallAttempt)
        if _stored_with_attempts(place_attempt.get_backend()):
            if together.write(attempt, place_attempt, using):
                return Result(Outcome.PLACED, attempt.line, attempt)
            with transaction.atomic(using=using):
                attempt.save()
                if attempt.outcome == CallAttempt.Outcome.QUEUED:
                    place_attempt.enqueue(attempt.pk)
        else:
            attempt.save()
            if attempt.outcome == CallAttempt.Outcome.QUEUED:
                place_attempt.enqueue(attempt.pk)
    except Exception as exc:  # the queue is down: the record stays, the visitor learns it failed
        logger.exception("attempt %s: could not queue the placement", attempt.pk)
        if attempt.pk is not None and not CallAttempt.objects.filter(pk=attempt.pk).exists():
            attempt.pk, attempt._state.adding = None, True  # rolled back with its task: record it again
        if attempt.pk is None:
            attempt.save()
        _save_failure(attempt, f"could not queue the placement: {exc.__class__.__name__}: {exc}", our_side=True)
        return Result(Outcome.ERROR, attempt.line, attempt)
    return Result(Outcome.PLACED, attempt.line, attempt)


@task
def place_attempt(attempt_id: int, try_number: int = 1) -> str:
    """Place one queued attempt's call; returns what happened (for the task's result)."""
    from .calls import place

    if not claim(attempt_id):
        logger.info("attempt %s: not queued any more, nothing to place", attempt_id)
        return "skipped"
    attempt = CallAttempt.objects.select_related("line").get(pk=attempt_id)
    later = callbacks.not_due(attempt, timezone.now())
    if later is not None:  # the worker ran late: wait for the next opening, by day for the visitor
        return _reschedule(attempt, later)
    if attempt.provider_call_id or attempt.status:
        # The provider reported this call (its status callback) after a failure that looked
        # transient, e.g. a timeout: the call exists, and a retry would ring the person twice.
        now = timezone.now()
        CallAttempt.objects.filter(pk=attempt_id, outcome=CallAttempt.Outcome.PENDING).update(
            outcome=CallAttempt.Outcome.PLACED, updated_at=now, placed_at=now
        )
        attempt.refresh_from_db(fields=["outcome"])
        logs.log_placement(attempt, tries=try_number - 1, detail="placed by the earlier try, per the provider")
        return "already placed"
    refused = _refused_meanwhile(attempt)
    if refused is not None:
        guards.give_back(attempt.line, attempt.phone, attempt.client_ip, attempt.created_at)  # no call
        outcome, detail = refused
        CallAttempt.objects.filter(pk=attempt_id, outcome=CallAttempt.Outcome.PENDING).update(
            outcome=outcome, error_detail=detail, updated_at=timezone.now()
        )
        attempt.refresh_from_db(fields=["outcome", "error_detail"])
        logs.log_placement(attempt, tries=try_number - 1, detail=detail)
        return str(outcome)
    if _expired(attempt, try_number):
        return _after(attempt)

    def on_its_turn() -> bool:
        pacing.wait_for_turn(pacing.PROVIDER)  # the provider's pace, shared by every worker
        return not _expired(attempt, try_number)

    last_try = try_number > conf.PLACEMENT_RETRIES
    try:
        if place(attempt, raise_transient=not last_try, before_send=on_its_turn) is None:
            return _after(attempt)
    except TelephonyError as exc:
        return _retry_later(attempt, try_number, exc)
    attempt.refresh_from_db(fields=["outcome", "provider_call_id", "error_detail"])
    logs.log_placement(attempt, tries=try_number)
    return _after(attempt)


def _after(attempt: CallAttempt) -> str:
    """What a placement ends with; a recurring reminder gets its next weekday's call."""
    if attempt.reminder and attempt.outcome in (CallAttempt.Outcome.PLACED, CallAttempt.Outcome.EXPIRED):
        callbacks.remind(attempt)  # a recurring reminder: the next weekday's call
    return str(attempt.outcome)


def _reschedule(attempt: CallAttempt, when) -> str:
    CallAttempt.objects.filter(pk=attempt.pk, outcome=CallAttempt.Outcome.PENDING).update(
        outcome=CallAttempt.Outcome.SCHEDULED, scheduled_for=when, updated_at=timezone.now()
    )
    logger.info("attempt %s: run late, outside the hours; moved to %s", attempt.pk, when.isoformat())
    enqueue_at(attempt, when)
    return "rescheduled"


def _expired(attempt: CallAttempt, try_number: int) -> bool:
    """Whether the call waited past its maximum (``pacing.expires_after``); if so it is recorded ``expired``."""
    longest = pacing.expires_after()
    waited = (timezone.now() - (attempt.scheduled_for or attempt.created_at)).total_seconds()
    if longest is None or waited <= longest:
        return False
    detail = f"not placed: waited {waited:.0f} s in the queue (most {pacing.max_wait():g} s)"
    CallAttempt.objects.filter(pk=attempt.pk, outcome=CallAttempt.Outcome.PENDING).update(
        outcome=CallAttempt.Outcome.EXPIRED, error_detail=detail, updated_at=timezone.now()
    )
    attempt.refresh_from_db(fields=["outcome", "error_detail"])
    guards.give_back(attempt.line, attempt.phone, attempt.client_ip, attempt.created_at)  # no call
    logs.log_placement(attempt, tries=try_number - 1, detail=detail)
    return True


def _refused_meanwhile(attempt: CallAttempt) -> tuple[str, str] | None:
    """Why the call may no longer be placed: its line was switched off, or its number blocked
    (e.g. the person opted out during another call) while it waited in the queue. Staff's
    test calls may ring on a paused line."""
    if not attempt.line.is_active and not attempt.is_test:
        return CallAttempt.Outcome.INACTIVE, "line switched off while the call waited in the queue"
    entry = blocklist.phone_entry(attempt.phone)
    if entry is not None:
        blocklist.record_hit(entry)
        return CallAttempt.Outcome.BLOCKED, "blocklist: the number was blocked while the call waited in the queue"
    if attempt.scheduled_for is not None:  # asked for on another day: the line's cap of the day it is placed
        cap = guards.daily_cap(attempt.line)
        if limits.count_today("line", attempt.line.pk, cap) is not None:
            return CallAttempt.Outcome.THROTTLED, f"daily cap: the line placed its {cap} calls today"
    return None


def _retry_later(attempt: CallAttempt, try_number: int, exc: TelephonyError) -> str:
    from .calls import _save_failure

    delay = backoff(try_number)
    detail = f"try {try_number} failed, retrying in {delay:g}s: {exc}"
    CallAttempt.objects.filter(pk=attempt.pk, outcome=CallAttempt.Outcome.PENDING).update(
        outcome=CallAttempt.Outcome.QUEUED, error_detail=detail[:4000], updated_at=timezone.now()
    )
    logger.warning("attempt %s: %s", attempt.pk, detail)
    try:
        retry = place_attempt
        if place_attempt.get_backend().supports_defer:
            if delay:
                retry = place_attempt.using(run_after=timezone.now() + timedelta(seconds=delay))
        elif delay:
            time.sleep(delay)  # a backend without deferred tasks (immediate): wait here
        retry.enqueue(attempt.pk, try_number + 1)
    except Exception as enqueue_exc:
        if claim(attempt.pk):
            _save_failure(attempt, f"{detail}; could not queue the retry: {enqueue_exc}", our_side=True)
            logs.log_placement(attempt, tries=try_number)
        return "error"
    return "retrying"
