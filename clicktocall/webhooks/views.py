"""Webhook views Twilio calls: the voice URL, the gather and dial actions, the status callback.

Each URL carries the attempt's unguessable token. Every request must carry a valid
``X-Twilio-Signature`` (checked always, also with ``DEBUG`` on) before anything is read
or written; a forged or unsigned request gets a 403 and changes nothing. Malformed
parameters get a 400. An unexpected error is logged and answered with TwiML that ends
the call politely (or a 503 for the status callback), never a 500.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
)
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .. import blocklist, callflow, calls, lifecycle, signals, targets
from ..exceptions import WebhookSignatureError
from ..hours import callbacks
from ..models import CallAttempt
from . import signature

logger = logging.getLogger("clicktocall.webhooks")

TWIML = "text/xml; charset=utf-8"
SORRY = "Sorry, an error occurred. Goodbye."
# Attempts whose call may legitimately be in progress.
LIVE_OUTCOMES = {CallAttempt.Outcome.PENDING, CallAttempt.Outcome.PLACED, CallAttempt.Outcome.QUEUED}


def _twiml(response: Any) -> HttpResponse:
    return HttpResponse(str(response), content_type=TWIML)


def _hang_up(saying: str = "") -> HttpResponse:
    """TwiML that ends the call, after ``saying`` when given."""
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    if saying:
        response.say(saying)
    response.hangup()
    return _twiml(response)


def webhook(kind: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Validate the signature, find the attempt, and never let an error become a 500."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @require_POST
        @functools.wraps(view)
        def wrapped(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
            try:
                signature.validate(request)
            except WebhookSignatureError as exc:
                logger.warning("%s webhook refused: %s", kind, exc)
                return HttpResponseForbidden("invalid signature")
            try:
                attempt = CallAttempt.objects.select_related("line").filter(token=token).first()
                if attempt is None:
                    return HttpResponseNotFound("unknown call")
                return view(request, attempt, **kwargs)
            except Exception:
                logger.exception("%s webhook failed for call %s", kind, token[:12])
                if kind == "status":
                    return HttpResponse("temporarily unavailable", status=503)
                return _hang_up(SORRY)

        return wrapped

    return decorate


def _record_call_status(request: HttpRequest, attempt: CallAttempt) -> str | None:
    """Record the ``CallStatus`` a request reports; the status, or None when absent/unknown."""
    status = request.POST.get("CallStatus", "")
    if status not in lifecycle.STATUSES:
        return None
    lifecycle.advance(
        attempt,
        status,
        when=lifecycle.parse_timestamp(request.POST.get("Timestamp")),
        duration=lifecycle.parse_seconds(request.POST.get("CallDuration")),
        call_sid=request.POST.get("CallSid", ""),
    )
    return status


UNSETTLED_OUTCOMES = {CallAttempt.Outcome.ERROR, CallAttempt.Outcome.UNKNOWN}


def _recover(request: HttpRequest, attempt: CallAttempt) -> None:
    """A call recorded as unknown or failed that the provider reports all the same is placed.

    The provider can create the call and still fail to answer our request for it (a
    timeout); the attempt was then recorded as ``unknown`` (or ``error``). A signed
    request about the call proves it exists: the person must not be hung up on when
    they answer.
    """
    call_sid = request.POST.get("CallSid", "")
    if attempt.outcome in UNSETTLED_OUTCOMES and call_sid and not attempt.provider_call_id:
        logger.warning("attempt %s: recorded as failed, but the provider reports call %s", attempt.pk, call_sid)
        calls.mark_placed(attempt, call_sid[:64], request.POST.get("CallStatus", ""))


@webhook("voice")
def voice(request: HttpRequest, attempt: CallAttempt) -> HttpResponse:
    """The answered call: human check, script, first connection."""
    _recover(request, attempt)
    if attempt.outcome not in LIVE_OUTCOMES:
        return _hang_up()
    _record_call_status(request, attempt)
    flow = _flow(request, attempt)
    response = flow.answer(request.POST.get("AnsweredBy", ""))
    if attempt.line.human_check == attempt.line.HumanCheck.NONE and flow.targets and not flow.needs_zip:
        lifecycle.start_legs(attempt, 0, flow, 0)
    return _twiml(response)


@webhook("gather")
def gather(request: HttpRequest, attempt: CallAttempt) -> HttpResponse:
    """The key the caller pressed at the prompt: 1 connects, 9 opts out."""
    if attempt.outcome not in LIVE_OUTCOMES:
        return _hang_up()
    digits = request.POST.get("Digits", "")[:32]
    flow = _flow(request, attempt)
    if digits == callflow.OPT_OUT_KEY:
        _opt_out(attempt, digits)
        return _twiml(flow.opted_out())
    if digits == callflow.CONNECT_KEY and flow.targets and not flow.needs_zip:
        lifecycle.start_legs(attempt, 0, flow, 0)
    return _twiml(flow.keypress(digits))


def _opt_out(attempt: CallAttempt, digits: str) -> None:
    """The person asked for no more calls: block the number and cancel the calls scheduled to it."""
    if attempt.phone:
        note = f"Pressed {digits} during a call from {attempt.line.phone_number}"
        blocklist.add_opt_out(attempt.phone, note=note)
        callbacks.cancel_for_phone(attempt.phone, "the person opted out")
        logger.info("attempt %s: %s opted out", attempt.pk, attempt.phone)
        signals.caller_opted_out.send(sender=CallAttempt, attempt=attempt)


@webhook("remind")
def remind(request: HttpRequest, attempt: CallAttempt) -> HttpResponse:
    """The key pressed at the reminder offer after the last target: 2 schedules the next weekday's call."""
    digits = request.POST.get("Digits", "")[:32]
    flow = _flow(request, attempt)
    scheduled = None
    if digits == callflow.OPT_OUT_KEY:
        _opt_out(attempt, digits)
    elif digits == callflow.REMIND_KEY and flow.offer_reminder and attempt.outcome in LIVE_OUTCOMES:
        scheduled = callbacks.remind(attempt)
    return _twiml(flow.reminded(digits, scheduled=scheduled is not None))


@webhook("dial")
def dial(request: HttpRequest, attempt: CallAttempt, position: int) -> HttpResponse:
    """A target call ended: record its leg, then connect the next target or close."""
    dial_status = request.POST.get("DialCallStatus", "")
    if dial_status not in lifecycle.LEG_STATUSES:
        return HttpResponseBadRequest("DialCallStatus missing or unknown")
    leg = lifecycle.end_leg(
        attempt,
        position,
        dial_status,
        duration=lifecycle.parse_seconds(request.POST.get("DialCallDuration")),
        call_sid=request.POST.get("DialCallSid", ""),
    )
    if request.POST.get("CallStatus") in lifecycle.END_STATUSES or attempt.outcome not in LIVE_OUTCOMES:
        return _hang_up()  # the caller has hung up: Twilio ignores this answer
    # Staff may change the targets while calls are live: past the end of the list as it
    # is now, the call closes politely (an error would be read out to the caller).
    flow = _flow(request, attempt)
    # Legs are numbered in the order the call makes them; the target is the one after
    # the target just called, in the list as it is now (or the same member's next office).
    following, office = callflow.next_step(flow.targets, leg, position, dial_status)
    lifecycle.start_legs(attempt, position + 1, flow, following, office)
    previous = leg.target_name if leg else None
    return _twiml(flow.connect(following, dial_status, previous_name=previous, leg=position + 1, office=office))


@webhook("zip")
def zip_entry(request: HttpRequest, attempt: CallAttempt, tries: int) -> HttpResponse:
    """The ZIP code the caller keyed in (``tries`` times asked before): look up, then connect or ask again."""
    if attempt.outcome not in LIVE_OUTCOMES:
        return _hang_up()
    digits = request.POST.get("Digits", "")[:32]
    if len(digits) == callflow.ZIP_DIGITS and digits.isdigit():
        attempt.variables = targets.with_zip(attempt.variables, digits)
        attempt.save(update_fields=["variables", "updated_at"])
    flow = _flow(request, attempt)
    response = flow.zip_entered(min(tries, callflow.ZIP_TRIES - 1))
    if flow.targets and (not flow.needs_zip or tries + 1 >= callflow.ZIP_TRIES):
        lifecycle.start_legs(attempt, 0, flow, 0)
    return _twiml(response)


def _flow(request: HttpRequest, attempt: CallAttempt) -> callflow.CallFlow:
    return callflow.CallFlow.for_attempt(attempt, called=request.POST.get("To", ""))


@webhook("status")
def status(request: HttpRequest, attempt: CallAttempt) -> HttpResponse:
    """The status callback: the call's lifecycle."""
    if request.POST.get("CallStatus", "") not in lifecycle.STATUSES:
        return HttpResponseBadRequest("CallStatus missing or unknown")
    call_sid = request.POST.get("CallSid", "")
    if call_sid and attempt.provider_call_id and call_sid != attempt.provider_call_id:
        logger.warning("attempt %s: status callback for another call %s", attempt.pk, call_sid)
        return HttpResponseBadRequest("CallSid does not match this call")
    _recover(request, attempt)
    _record_call_status(request, attempt)
    return HttpResponse(status=204)
