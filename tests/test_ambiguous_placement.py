"""A provider that creates the call but answers too late: the attempt is unknown, not failed.

The Twilio stand-in creates the call, then waits longer than the backend's timeout before
it answers. The cooldown stays, nothing is retried, and the call's status callback
settles the attempt as placed.
"""

from __future__ import annotations

from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from clicktocall.models import CallAttempt
from clicktocall.telephony.backends import twilio as twilio_backend

from .contract import ERROR, PLACED, THROTTLED, VALID, message
from .test_calls_end_to_end import twilio  # noqa: F401 (a fixture)
from .test_placement import DATABASE_BACKEND, run_worker
from .twilio_standin import Scenario

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def late(twilio, monkeypatch):  # noqa: F811 (the imported fixture)
    """The stand-in answers 0.6 s after creating the call; the backend waits 0.2 s."""
    monkeypatch.setattr(twilio_backend, "REQUEST_TIMEOUT", 0.2)
    twilio.reply_delay = 0.6
    return twilio


def ask(live_server, **extra) -> str:
    response = requests.post(f"{live_server.url}/outgoing", data={**VALID, **extra}, timeout=10)
    return message(response)


def test_a_late_answer_keeps_the_cooldown_and_the_status_callback_settles_it(live_server, late, line, limits):
    assert ask(live_server) == ERROR
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "unknown" and "ReadTimeout" in attempt.error_detail
    assert attempt.provider_call_id == ""

    # A second click does not ring the person again: the cooldown holds.
    assert ask(live_server) == THROTTLED
    assert len(late.created) == 1

    call = late.run_call(late.created[0], Scenario(answer="no-answer"))
    assert call.statuses and all(code == 204 for code in call.status_responses)
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.provider_call_id) == ("placed", late.created[0].sid)
    assert attempt.status == "no-answer"


def test_a_queued_placement_is_not_retried_after_a_late_answer(live_server, late, line, settings):
    settings.CLICKTOCALL_PLACEMENT = "queued"
    settings.CLICKTOCALL_PLACEMENT_BACKOFF = 0
    settings.CLICKTOCALL_PLACEMENT_RETRIES = 3
    settings.TASKS = DATABASE_BACKEND
    assert ask(live_server) == PLACED

    run_worker()
    run_worker()

    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "unknown" and len(late.created) == 1
    assert DBTaskResult.objects.count() == 1  # no retry was queued
    late.run_call(late.created[0], Scenario(answer="busy"))
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.status) == ("placed", "busy")


def test_a_refused_connection_is_still_a_clean_failure(live_server, twilio, line, limits):  # noqa: F811
    twilio.stop()  # nobody listens on its port any more
    assert ask(live_server) == ERROR
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "error" and "Twilio unreachable" in attempt.error_detail
    # No call was created: the cooldown is given back, the person may try again at once.
    assert ask(live_server) == ERROR
    assert list(CallAttempt.objects.values_list("outcome", flat=True)) == ["error", "error"]


def settle(older_than: str = "0") -> str:
    out = StringIO()
    call_command("clicktocall_settle", "--older-than", older_than, stdout=out)
    return out.getvalue()


def test_a_look_up_at_the_provider_settles_an_unknown_attempt_as_placed(live_server, late, line, limits):
    assert ask(live_server) == ERROR
    assert "Settled 0 as placed, 0 as failed; 0 left unknown." in settle("3600")  # not old enough yet
    assert "Settled 1 as placed" in settle()
    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.provider_call_id) == ("placed", late.created[0].sid)
    assert ask(live_server) == THROTTLED and len(late.created) == 1  # the cooldown still holds


def test_a_look_up_that_finds_no_call_fails_the_attempt_and_gives_its_limits_back(live_server, late, line, limits):
    late.creates_calls = False  # Twilio lost the request after all
    assert ask(live_server) == ERROR
    assert ask(live_server) == THROTTLED  # unknown: the cooldown holds
    assert "0 as placed, 1 as failed" in settle()
    attempt = CallAttempt.objects.order_by("pk").first()
    assert attempt.outcome == "error" and attempt.error_detail.endswith("the provider created no call")
    late.creates_calls, late.reply_delay = True, 0
    assert ask(live_server) == PLACED  # the person may ask again
