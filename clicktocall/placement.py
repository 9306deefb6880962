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
   recorded ``inactive`` or ``blocked`` and no call is placed;
3. waits for the provider's turn (``pacing``: calls spaced to ``CLICKTOCALL_PROVIDER_CPS``
   across every worker); a call that has waited longer than ``CLICKTOCALL_MAX_QUEUE_WAIT``
   since its request is not placed but recorded ``expired``;
4. asks the telephony backend to place the call;
5. on a transient provider error (``TelephonyError.transient``), hands the attempt back
   (``queued``) and enqueues a retry after a backoff that doubles each time
   (``CLICKTOCALL_PLACEMENT_BACKOFF`` seconds first, at most
   ``CLICKTOCALL_PLACEMENT_RETRIES`` retries); after the last one, or on a permanent
   error, the attempt's outcome is ``error`` with the provider's answer as its detail.

A retry finds the call already placed when the provider reported it (its status
callback sets the attempt's status) after a failure that only looked transient, such as
a timeout; it then records the attempt as placed instead of calling again. A worker
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

from . import blocklist, guards, logs, pacing
from .conf import conf
from .exceptions import TelephonyError
from .models import CallAttempt

logger = logging.getLogger("clicktocall.placement")

MAX_DELAY = 600.0  # seconds; the longest wait between two tries


def backoff(try_number: int) -> float:
    """Seconds to wait after the ``try_number``-th failed try (1, 2, …): base, 2×base, 4×base…"""
    return min(MAX_DELAY, conf.PLACEMENT_BACKOFF * (2 ** max(0, try_number - 1)))


def claim(attempt_id: int) -> bool:
    """Take a queued attempt for placement; True for exactly one caller per queued attempt."""
    updated = CallAttempt.objects.filter(pk=attempt_id, outcome=CallAttempt.Outcome.QUEUED).update(
        outcome=CallAttempt.Outcome.PENDING, updated_at=timezone.now()
    )
    return updated == 1


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

    With tasks kept in the same database, the attempt and its task are written in one
    transaction: one commit, and never an attempt without its task. With any other
    backend the attempt is committed first, so that a worker finds it.
    """
    from .calls import Outcome, Result, _save_failure

    try:
        if _stored_with_attempts(place_attempt.get_backend()):
            with transaction.atomic(using=router.db_for_write(CallAttempt)):
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
        _save_failure(attempt, f"could not queue the placement: {exc.__class__.__name__}: {exc}")
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
        outcome, detail = refused
        CallAttempt.objects.filter(pk=attempt_id, outcome=CallAttempt.Outcome.PENDING).update(
            outcome=outcome, error_detail=detail, updated_at=timezone.now()
        )
        attempt.refresh_from_db(fields=["outcome", "error_detail"])
        logs.log_placement(attempt, tries=try_number - 1, detail=detail)
        return str(outcome)
    if _expired(attempt, try_number):
        return str(CallAttempt.Outcome.EXPIRED)

    def on_its_turn() -> bool:
        pacing.wait_for_turn(pacing.PROVIDER)  # the provider's pace, shared by every worker
        return not _expired(attempt, try_number)

    last_try = try_number > conf.PLACEMENT_RETRIES
    try:
        if place(attempt, raise_transient=not last_try, before_send=on_its_turn) is None:
            return str(CallAttempt.Outcome.EXPIRED)
    except TelephonyError as exc:
        return _retry_later(attempt, try_number, exc)
    attempt.refresh_from_db(fields=["outcome", "provider_call_id", "error_detail"])
    logs.log_placement(attempt, tries=try_number)
    return str(attempt.outcome)


def _expired(attempt: CallAttempt, try_number: int) -> bool:
    """Whether the call waited longer than ``CLICKTOCALL_MAX_QUEUE_WAIT``; if so it is recorded ``expired``."""
    longest = pacing.max_wait()
    waited = (timezone.now() - attempt.created_at).total_seconds()
    if longest is None or waited <= longest:
        return False
    detail = f"not placed: waited {waited:.0f} s in the queue (most {longest:g} s)"
    CallAttempt.objects.filter(pk=attempt.pk, outcome=CallAttempt.Outcome.PENDING).update(
        outcome=CallAttempt.Outcome.EXPIRED, error_detail=detail, updated_at=timezone.now()
    )
    attempt.refresh_from_db(fields=["outcome", "error_detail"])
    guards.release_cooldown(attempt.line, attempt.phone)  # no call: the person may ask again
    logs.log_placement(attempt, tries=try_number - 1, detail=detail)
    return True


def _refused_meanwhile(attempt: CallAttempt) -> tuple[str, str] | None:
    """Why the call may no longer be placed: its line was switched off, or its number blocked
    (e.g. the person opted out during another call) while it waited in the queue."""
    if not attempt.line.is_active:
        return CallAttempt.Outcome.INACTIVE, "line switched off while the call waited in the queue"
    entry = blocklist.phone_entry(attempt.phone)
    if entry is not None:
        blocklist.record_hit(entry)
        return CallAttempt.Outcome.BLOCKED, "blocklist: the number was blocked while the call waited in the queue"
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
            _save_failure(attempt, f"{detail}; could not queue the retry: {enqueue_exc}")
            logs.log_placement(attempt, tries=try_number)
        return "error"
    return "retrying"
