"""The provider's status callback arrives before its answer to the create-call request, which then fails."""

from __future__ import annotations

import pytest
from django.test import Client

from clicktocall.conf import conf
from clicktocall.exceptions import TelephonyError
from clicktocall.models import CallAttempt, Target
from clicktocall.telephony.backends.base import BaseTelephonyBackend, CallRequest, ProviderCall

from .contract import ERROR, PLACED, THROTTLED, VALID, message
from .twilio_signing import signed_post as twilio_signed_post

pytestmark = pytest.mark.django_db

SID = "CA" + "c" * 32


def signed_post(url: str, params: dict[str, str]):
    return twilio_signed_post(Client(), url, params)


class CreatedThenTimedOut(BaseTelephonyBackend):
    """Twilio creates the call and reports it ringing, but its answer to us times out."""

    name = "created-then-timed-out"

    def place_call(self, call: CallRequest) -> ProviderCall:
        assert signed_post(call.status_callback_url, {"CallSid": SID, "CallStatus": "ringing"}).status_code == 204
        raise TelephonyError("Twilio unreachable: ReadTimeout", transient=True)


class NeverCreated(BaseTelephonyBackend):
    name = "never-created"

    def place_call(self, call: CallRequest) -> ProviderCall:
        raise TelephonyError("Twilio unreachable: ReadTimeout", transient=True)


def test_a_call_the_provider_reported_is_placed_though_its_answer_failed(client, line, settings, limits):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = f"{__name__}.CreatedThenTimedOut"
    Target.objects.create(line=line, position=0, name="Office", phone_number="+12025550100")
    assert message(client.get("/outgoing", VALID)) == PLACED
    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.status, attempt.provider_call_id) == ("placed", "ringing", SID)
    # The person answers: the call goes on instead of hanging up on them.
    voice = signed_post(conf.PUBLIC_URL + f"/clicktocall/twilio/voice/{attempt.token}/", {"CallSid": SID})
    assert b"<Gather" in voice.content and b"<Hangup" not in voice.content
    # The cooldown holds: the visitor is not invited to ring the same person twice.
    assert message(client.get("/outgoing", VALID)) == THROTTLED


def test_a_call_the_provider_never_reported_is_still_an_error(client, line, settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = f"{__name__}.NeverCreated"
    assert message(client.get("/outgoing", VALID)) == ERROR
    assert CallAttempt.objects.get().outcome == "error"


@pytest.mark.django_db(transaction=True)
def test_queued_a_reported_call_is_placed_at_once_not_retried(client, line, settings):
    from django_tasks_db.models import DBTaskResult

    from .test_placement import DATABASE_BACKEND, run_worker

    settings.CLICKTOCALL_TELEPHONY_BACKEND = f"{__name__}.CreatedThenTimedOut"
    settings.CLICKTOCALL_PLACEMENT = "queued"
    settings.CLICKTOCALL_PLACEMENT_BACKOFF = 60
    settings.TASKS = DATABASE_BACKEND
    assert message(client.get("/outgoing", VALID)) == PLACED

    run_worker()

    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.provider_call_id) == ("placed", SID)
    assert DBTaskResult.objects.count() == 1  # no retry queued: it would only find the call placed


def test_a_call_recorded_as_failed_that_the_provider_reports_later_goes_on(client, line, settings):
    """The answer timed out, the attempt was recorded as failed; then Twilio's callbacks arrive."""
    settings.CLICKTOCALL_TELEPHONY_BACKEND = f"{__name__}.NeverCreated"
    Target.objects.create(line=line, position=0, name="Office", phone_number="+12025550100")
    assert message(client.get("/outgoing", VALID)) == ERROR
    attempt = CallAttempt.objects.get()
    status = conf.PUBLIC_URL + f"/clicktocall/twilio/status/{attempt.token}/"
    assert signed_post(status, {"CallSid": SID, "CallStatus": "ringing"}).status_code == 204
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.status, attempt.provider_call_id) == ("placed", "ringing", SID)
    voice = signed_post(conf.PUBLIC_URL + f"/clicktocall/twilio/voice/{attempt.token}/", {"CallSid": SID})
    assert b"<Gather" in voice.content  # not hung up on


def test_a_failed_attempt_with_its_own_call_id_is_left_alone(client, line, settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = f"{__name__}.NeverCreated"
    client.get("/outgoing", VALID)
    CallAttempt.objects.update(provider_call_id=SID)
    attempt = CallAttempt.objects.get()
    voice = signed_post(conf.PUBLIC_URL + f"/clicktocall/twilio/voice/{attempt.token}/", {"CallSid": "CA" + "d" * 32})
    assert b"<Gather" not in voice.content and b"<Hangup" in voice.content
    attempt.refresh_from_db()
    assert attempt.outcome == "error"
