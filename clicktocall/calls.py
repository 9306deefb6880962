"""The call service: record the attempt, apply the limits, place the call.

Data flows one way: the view hands validated parameters here; this module records the
attempt *before* asking the telephony backend, and records what the backend answered.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import DatabaseError
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from . import blocklist, callflow, guards, lifecycle, limits, lines, pacing, rows, signals, targets
from .conf import conf
from .events.delivery import batched
from .exceptions import ClickToCallError, TelephonyError
from .hours import callbacks
from .models import CallAttempt, CampaignLine
from .outgoing.params import OutgoingParams
from .telephony import CallRequest, get_backend

logger = logging.getLogger("clicktocall.calls")

REFUSAL_DETAIL_MAX = 1000  # characters of a refusal's reason kept on its attempt
MINIMAL_DETAIL_MAX = 200


class Outcome(enum.Enum):
    """What ``/outgoing`` answers; the messages are the original service's, verbatim."""

    PLACED = (200, "The call's been placed.")
    INVALID = (400, "Sorry, but you haven't provided any of the info we were expecting.")
    UNCONFIGURED = (400, "This phone number is not configured.")
    THROTTLED = (400, "Sorry, you're calling too quickly.")
    ERROR = (400, "Sorry, there was an error.")

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def message(self) -> str:
        return self.value[1]

    @property
    def is_error(self) -> bool:
        return self is not Outcome.PLACED

    @property
    def payload(self) -> dict:
        """The contract's JSON body: ``{"error": …, "message": …}``."""
        return {"error": self.is_error, "message": self.message}


@dataclass(frozen=True)
class RequestMeta:
    """What the view knows about the client, for the record."""

    client_ip: str | None = None
    user_agent: str = ""
    referrer: str = ""


@dataclass
class Result:
    outcome: Outcome
    line: CampaignLine | None = None
    attempt: CallAttempt | None = None
    retry_after: int | None = None


def find_line(e164: str, *, checked_later: bool = False) -> CampaignLine | None:
    """The line named ``e164``, from the lines this process keeps (no query; see ``lines.find``)."""
    return lines.find(e164, checked_later=checked_later)


def webhook_url(name: str, attempt: CallAttempt) -> str:
    """The public URL of the provider's webhook ``name`` for the attempt's call."""
    key = (name, get_urlconf(), get_script_prefix())
    path = _webhook_paths.get(key)
    if path is None:  # reversed once per webhook and URL configuration, then filled in
        path = _webhook_paths[key] = reverse(f"clicktocall:{name}", kwargs={"token": TOKEN_SLOT})
    return conf.PUBLIC_URL + path.replace(TOKEN_SLOT, attempt.token)


TOKEN_SLOT = "token-slot"  # no attempt's token: those are 32 characters long
_webhook_paths: dict[tuple[str, str | None, str], str] = {}


def _new_attempt(
    line: CampaignLine, params: OutgoingParams, meta: RequestMeta, outcome: str, detail: str = ""
) -> CallAttempt:
    return CallAttempt(
        line=line,
        phone=params.phone,
        name=params.name,
        email=params.email,
        variables=params.variables,
        submitted=params.submitted,
        client_ip=meta.client_ip,
        user_agent=meta.user_agent[:512],
        referrer=meta.referrer[:2048],
        outcome=outcome,
        error_detail=detail,
    )


def _record(attempt: CallAttempt) -> None:
    """Save a new attempt, and announce it."""
    if not rows.insert(attempt):
        attempt.save()
    signals.attempt_created.send(sender=CallAttempt, attempt=attempt)


def _refuse(
    line: CampaignLine | None, params: OutgoingParams, meta: RequestMeta, outcome: Outcome, code: str, detail: str
) -> Result:
    attempt = None
    if line is not None:
        attempt = _new_attempt(line, params, meta, code, detail[:REFUSAL_DETAIL_MAX])
        if not guards.keeps_details(meta.client_ip, line):
            _minimize(attempt)
        _record(attempt)
    logger.debug("refused %s: %s", code, detail)
    return Result(outcome, line, attempt)


def _minimize(attempt: CallAttempt) -> None:
    """Keep only what counts the refusal: the line, number, address, outcome and a short reason.

    The record of a refused request from an address that sent more than its hourly share
    of them (``CLICKTOCALL_REFUSED_RECORDS_PER_HOUR``): a flood of them cannot make the
    database grow by more than a few hundred bytes each.
    """
    attempt.name = attempt.email = attempt.user_agent = attempt.referrer = ""
    attempt.variables, attempt.submitted = {}, {}
    note = f"details not kept: over {conf.REFUSED_RECORDS_PER_HOUR} refused requests from the address this hour; "
    attempt.error_detail = (note + attempt.error_detail)[:MINIMAL_DETAIL_MAX]


@batched
def request_call(params: OutgoingParams, meta: RequestMeta) -> Result:
    """Handle one validated ``/outgoing`` request end to end.

    With the limits in Redis, the request finds its line among the kept ones without
    reading their version: its first script (the limits, or the count of refused requests)
    checks it, and takes nothing when the lines changed; the request then starts again
    with the current lines. Nothing is written before that script.
    """
    checked_later = limits.checks_versions()
    try:
        return _request_call(params, meta, checked_later)
    except limits.StaleVersion:
        if not checked_later:
            raise
        return _request_call(params, meta, False)


def _request_call(params: OutgoingParams, meta: RequestMeta, checked_later: bool) -> Result:
    line = find_line(params.campaign_line, checked_later=checked_later)

    problems = dict(params.problems)
    if line is not None:  # e.g. a malformed ZIP code on a line that finds targets by location
        problems.update(targets.request_problems(line, params.variables))
    if line is not None and "phone" not in problems:
        problem = guards.destination_problem(line, params.phone_number)
        if problem:
            problems["phone"] = problem
    if problems:
        detail = "; ".join(f"{k}: {v}" for k, v in sorted(problems.items()))
        return _refuse(line, params, meta, Outcome.INVALID, CallAttempt.Outcome.INVALID, detail)

    if line is None:
        logger.debug("refused: campaign line %s is not configured", params.campaign_line)
        return Result(Outcome.UNCONFIGURED)
    if not line.is_active:
        return _refuse(line, params, meta, Outcome.UNCONFIGURED, CallAttempt.Outcome.INACTIVE, "line is switched off")

    taken_at = timezone.now()
    closed, opening = False, None
    if line.hours_enabled and line.outside_hours != line.OutsideHours.CALL_NOW:
        closed, opening = callbacks.outside_hours(line, params.variables, params.phone)
    queued = conf.PLACEMENT == "queued" and not closed
    # The request's turn in the queue's pace, or (placed now) the provider's: taken with the limits, in one round trip.
    turn = None if closed else pacing.queue_turn() if queued else pacing.provider_turn()
    admitted = guards.admit(line, params, meta, taken_at, turn)
    if isinstance(admitted, guards.Refusal):
        result = _refuse(line, params, meta, admitted.outcome, admitted.code, admitted.detail)
        result.retry_after = admitted.retry_after
        return result
    if admitted > 0 and not queued:
        time.sleep(admitted)  # the provider's turn, at most DIRECT_MAX_WAIT away

    if closed and (opening is None or line.outside_hours == line.OutsideHours.REFUSE):
        # No call now: the person may ask again in the hours, with nothing spent.
        guards.give_back(line, params.phone, meta.client_ip, taken_at)
        detail = "outside the line's hours" + ("" if opening else ", and no opening ahead")
        return _refuse(line, params, meta, Outcome.ERROR, CallAttempt.Outcome.OUTSIDE_HOURS, detail)
    if not closed:
        opening = None

    outcome = CallAttempt.Outcome.SCHEDULED if opening else initial_outcome()
    attempt = _new_attempt(line, params, meta, outcome)
    if opening is None:
        blocklist.mark_if_blocked(attempt, outcome)  # the INSERT checks the number's blocklist entry
    elif blocklist.phone_entry(params.phone) is not None:
        attempt.outcome = CallAttempt.Outcome.BLOCKED
    result = None
    try:
        if opening is not None and attempt.outcome == CallAttempt.Outcome.SCHEDULED:
            result = callbacks.schedule_attempt(attempt, opening)
            signals.attempt_created.send(sender=CallAttempt, attempt=attempt)
            return result
        if outcome == CallAttempt.Outcome.QUEUED:
            from .placement import record_and_enqueue

            result = record_and_enqueue(attempt)
            signals.attempt_created.send(sender=CallAttempt, attempt=attempt)
        else:
            _record(attempt)
    except Exception:
        # No record, no call: the request must not keep the limits it took.
        if attempt.pk is None:
            guards.give_back(line, params.phone, meta.client_ip, taken_at)
        raise
    if attempt.outcome == CallAttempt.Outcome.BLOCKED:
        guards.give_back(line, params.phone, meta.client_ip, taken_at)  # no call: the request spends nothing
        blocklist.record_blocked(attempt)
        logger.debug("refused blocked: %s", attempt.error_detail)
        return Result(Outcome.ERROR, line, attempt)
    if result is not None:
        return result
    try:
        return place(attempt)
    except Exception as exc:  # a bug of ours before the call was handed over: no call, nothing spent
        logger.exception("attempt %s: could not hand the call over", attempt.pk)
        if attempt.outcome == CallAttempt.Outcome.PENDING and not attempt.provider_call_id:
            _save_failure(attempt, f"{exc.__class__.__name__}: {exc}", our_side=True)
        return Result(Outcome.ERROR, line, attempt)


def initial_outcome() -> str:
    """How an accepted attempt is first recorded: ``queued`` when a task worker places it."""
    return CallAttempt.Outcome.QUEUED if conf.PLACEMENT == "queued" else CallAttempt.Outcome.PENDING


def place(
    attempt: CallAttempt, *, raise_transient: bool = False, before_send: Callable[[], bool] | None = None
) -> Result | None:
    """Ask the telephony backend to place a recorded attempt's call.

    With ``raise_transient`` a transient ``TelephonyError`` is raised for the caller to
    retry, instead of being recorded as the attempt's failure. ``before_send`` runs once
    the request to the provider is ready, right before it is sent (e.g. to wait for the
    provider's turn); when it returns False nothing is sent and None is returned.
    """
    line = attempt.line
    try:
        backend = get_backend()
        backend.prepare()
        request = CallRequest(
            to=attempt.phone,
            from_=line.phone_number,
            attempt_token=attempt.token,
            voice_url=webhook_url("twilio-voice", attempt),
            status_callback_url=webhook_url("twilio-status", attempt),
            ring_timeout=conf.RING_TIMEOUT,
            machine_detection=callflow.machine_detection(line),
            extra=callflow.request_extra(attempt, backend),
        )
        if before_send is not None and not before_send():
            return None
        provider_call = backend.place_call(request)
    except ClickToCallError as exc:
        reported = reported_call(attempt)
        if reported is not None:
            # The provider's status callback came first: the call exists whatever its answer said.
            logger.warning("attempt %s: provider error, but the provider reported the call: %s", attempt.pk, exc)
            return mark_placed(attempt, *reported)
        if getattr(exc, "ambiguous", False):
            # The provider may have created the call: no second try, no limit given back.
            logger.warning("attempt %s: the provider's answer did not arrive: %s", attempt.pk, exc)
            _save_unknown(attempt, str(exc))
            return Result(Outcome.ERROR, line, attempt)
        if raise_transient and getattr(exc, "transient", False):
            raise
        logger.warning("attempt %s: provider error: %s", attempt.pk, exc)
        # The provider's refusal or absence: the client's rate stays spent, it bounds how often
        # one client makes us ask the provider. A configuration error is on our side.
        _save_failure(attempt, str(exc), our_side=not isinstance(exc, TelephonyError))
        return Result(Outcome.ERROR, line, attempt)
    except Exception as exc:  # a backend bug must not lose the record nor answer 500
        logger.exception("attempt %s: unexpected error placing the call", attempt.pk)
        _save_failure(attempt, f"{exc.__class__.__name__}: {exc}", our_side=True)
        return Result(Outcome.ERROR, line, attempt)

    return mark_placed(
        attempt, provider_call.sid, provider_call.status, provider_call.queue_time, provider_call.transcript
    )


def mark_placed(
    attempt: CallAttempt, sid: str, status: str, queue_time: int | None = None, transcript: str = ""
) -> Result:
    """Record that the provider placed the attempt's call ``sid``, and announce it."""
    record_placed(attempt, sid, status, queue_time, transcript)
    logger.debug("attempt %s placed: %s", attempt.pk, sid)
    signals.call_placed.send(sender=CallAttempt, attempt=attempt)
    return Result(Outcome.PLACED, attempt.line, attempt)


def reported_call(attempt: CallAttempt) -> tuple[str, str] | None:
    """The call id and status the provider's callbacks recorded for the attempt, if any yet.

    A callback can arrive before the provider's answer to the create-call request, and
    that answer can still fail (a timeout): the call exists all the same.
    """
    row = CallAttempt.objects.filter(pk=attempt.pk).values_list("provider_call_id", "status").first()
    if row is None or not (row[0] or row[1]):
        return None
    return row[0], row[1]


def record_placed(
    attempt: CallAttempt, sid: str, status: str, queue_time: int | None = None, transcript: str = ""
) -> None:
    """Record the provider's call id, first status and own queue time (and a simulated call's
    transcript) in one UPDATE.

    A status callback may have arrived before the provider's answer did; the status only
    moves forward, so it is set only while no callback has set one.
    """
    status = status if status in lifecycle.STATUSES else CallAttempt.Status.QUEUED
    now = timezone.now()
    fields = {
        "outcome": CallAttempt.Outcome.PLACED,
        "provider_call_id": sid,
        "updated_at": now,
        "placed_at": now,
        "provider_queue_time": queue_time,
    }
    if transcript:
        fields["transcript"] = attempt.transcript = transcript
    first = rows.update(CallAttempt, attempt.pk, {**fields, "status": status}, status=CallAttempt.Status.NONE)
    if not first:
        rows.update(CallAttempt, attempt.pk, fields)
    attempt.outcome, attempt.provider_call_id, attempt.updated_at = fields["outcome"], sid, now
    attempt.placed_at, attempt.provider_queue_time = now, queue_time
    if first:
        attempt.status = status
        signals.call_status_changed.send(sender=CallAttempt, attempt=attempt, old_status="", new_status=status)


def _save_unknown(attempt: CallAttempt, detail: str) -> None:
    """Record that the call may or may not exist; its status callback settles it (``placed``).

    The limits stay spent: a second request must not ring the person a second time.
    """
    updated = CallAttempt.objects.filter(pk=attempt.pk, status=CallAttempt.Status.NONE, provider_call_id="").update(
        outcome=CallAttempt.Outcome.UNKNOWN, error_detail=detail[:4000], updated_at=timezone.now()
    )
    if updated:
        attempt.outcome, attempt.error_detail = CallAttempt.Outcome.UNKNOWN, detail[:4000]
    else:  # the provider's callback came in meanwhile: the call exists
        reported = reported_call(attempt)
        if reported is not None:
            mark_placed(attempt, *reported)


SETTLE_MARGIN = timedelta(minutes=1)  # around an attempt's times, for the provider's clock


def settle(attempt: CallAttempt) -> str:
    """Look an ``unknown`` attempt's call up at the provider, and record what it finds.

    Found: the attempt is ``placed`` with the call's id. None created: the attempt is
    ``error`` and its limits are given back as for a provider failure. Returns the
    attempt's outcome; raises ``TelephonyError`` when the provider cannot tell, and
    ``NotImplementedError`` when the backend cannot look calls up.
    """
    request = CallRequest(to=attempt.phone, from_=attempt.line.phone_number, attempt_token=attempt.token)
    found = get_backend().find_call(request, attempt.created_at - SETTLE_MARGIN, attempt.updated_at + SETTLE_MARGIN)
    unsettled = CallAttempt.objects.filter(
        pk=attempt.pk, outcome=CallAttempt.Outcome.UNKNOWN, provider_call_id="", status=CallAttempt.Status.NONE
    )
    if found is not None:
        if CallAttempt.objects.filter(provider_call_id=found.sid).exclude(pk=attempt.pk).exists():
            raise TelephonyError(f"the provider's call {found.sid} belongs to another attempt")
        if unsettled.exists():
            logger.warning("attempt %s: the provider created call %s after all", attempt.pk, found.sid)
            mark_placed(attempt, found.sid, found.status)
    elif unsettled.update(
        outcome=CallAttempt.Outcome.ERROR,
        error_detail=f"{attempt.error_detail}; the provider created no call"[:4000],
        updated_at=timezone.now(),
    ):
        guards.give_back(attempt.line, attempt.phone, attempt.client_ip, attempt.created_at, client=False)
    attempt.refresh_from_db(fields=["outcome", "provider_call_id", "status", "error_detail"])
    return attempt.outcome


def _save_failure(attempt: CallAttempt, detail: str, *, our_side: bool) -> None:
    """Record that no call was placed, and give back the limits the request took.

    ``our_side``: the call failed for a reason of ours (a bug, the queue down), not the
    provider's, and the client's rate is given back too.
    """
    guards.give_back(attempt.line, attempt.phone, attempt.client_ip, attempt.created_at, client=our_side)
    attempt.outcome = CallAttempt.Outcome.ERROR
    attempt.error_detail = detail[:4000]
    try:
        attempt.save(update_fields=["outcome", "error_detail", "updated_at"])
    except DatabaseError:
        logger.exception("attempt %s: could not record the failure", attempt.pk)
