"""Office hours during whole calls, played by the Twilio stand-in: closed offices, recurring reminders."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from clicktocall.models import BlockEntry, CallAttempt, CallLeg, CampaignLine, Target

from .test_calls_end_to_end import LINE, REP, SEN, request_call, twilio  # noqa: F401 (a fixture)
from .twilio_standin import Scenario

pytestmark = pytest.mark.django_db(transaction=True)

NEW_YORK = ZoneInfo("America/New_York")
TUESDAY_EVENING = dt.datetime(2026, 12, 1, 18, 30, tzinfo=NEW_YORK)  # 15:30 in Los Angeles


@pytest.fixture
def two_coasts(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    line = CampaignLine.objects.create(
        phone_number=LINE, name="Coasts", script="Hello.", closing_message="Goodbye.", hours_enabled=True
    )
    Target.objects.create(line=line, position=0, name="Representative East", phone_number=REP, time_zone="")
    Target.objects.create(line=line, position=1, name="Senator West", phone_number=SEN, time_zone="America/Los_Angeles")
    return line


def legs() -> list[tuple[str, str]]:
    return [(leg.target_name, leg.status) for leg in CallLeg.objects.order_by("attempt", "position")]


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def test_a_closed_office_is_skipped_with_a_message_while_an_open_one_is_called(live_server, twilio, two_coasts):  # noqa: F811
    with time_machine.travel(TUESDAY_EVENING, tick=False):
        call = twilio.run_call(request_call(live_server, twilio), Scenario(digits=["1"]))
    assert "Say: Representative East's office is closed now." in call.heard
    assert [d["number"] for d in call.dialed] == [SEN]
    assert call.said[-1] == "Goodbye."
    assert legs() == [("Representative East", "closed"), ("Senator West", "completed")]
    assert CallLeg.objects.get(status="closed").get_status_display() == "Skipped: office closed"


def test_a_target_with_its_own_evening_window_is_called_after_the_line_closes(live_server, twilio, two_coasts):  # noqa: F811
    Target.objects.filter(name="Representative East").update(hours_closes=dt.time(19))
    with time_machine.travel(TUESDAY_EVENING, tick=False):
        call = twilio.run_call(request_call(live_server, twilio), Scenario(digits=["1"]))
    assert [d["number"] for d in call.dialed] == [REP, SEN]


def test_the_reminder_places_the_next_calls_and_stops_after_the_set_count(live_server, twilio, two_coasts):  # noqa: F811
    two_coasts.reminder_count = 2
    two_coasts.save()
    with time_machine.travel(TUESDAY_EVENING, tick=False):
        call = twilio.run_call(request_call(live_server, twilio), Scenario(digits=["1", "2"]))
    assert "Say: To be called again at this time on the next weekday, press 2." in call.heard
    assert "Say: We will call you again at this time on the next weekday." in " ".join(call.heard)
    first = CallAttempt.objects.get(reminder=1)
    assert first.outcome == "scheduled" and first.scheduled_for == TUESDAY_EVENING + dt.timedelta(days=1)

    with time_machine.travel(first.scheduled_for, tick=False):
        run_worker()
        call = twilio.run_call(twilio.created[-1], Scenario(digits=["1", ""]))
    first.refresh_from_db()
    assert first.outcome == "placed" and len(twilio.created) == 2
    assert "Say: To be called again at this time on the next weekday, press 2." not in call.heard  # it recurs alone
    second = CallAttempt.objects.get(reminder=2)
    # Wednesday's call is followed by Thursday's, at the same time.
    assert second.outcome == "scheduled" and second.scheduled_for == TUESDAY_EVENING + dt.timedelta(days=2)

    with time_machine.travel(second.scheduled_for, tick=False):
        run_worker()
    second.refresh_from_db()
    assert second.outcome == "placed" and len(twilio.created) == 3
    assert not CallAttempt.objects.filter(reminder=3).exists()  # two reminders, as set


def test_a_reminder_on_friday_comes_on_monday_and_9_stops_the_next(live_server, twilio, two_coasts):  # noqa: F811
    two_coasts.reminder_count = 5
    two_coasts.save()
    friday = TUESDAY_EVENING + dt.timedelta(days=3)
    with time_machine.travel(friday, tick=False):
        twilio.run_call(request_call(live_server, twilio), Scenario(digits=["1", "2"]))
    monday = CallAttempt.objects.get(reminder=1)
    assert monday.scheduled_for == friday + dt.timedelta(days=3)

    with time_machine.travel(monday.scheduled_for, tick=False):
        run_worker()
        call = twilio.run_call(twilio.created[-1], Scenario(digits=["9"]))
    assert "Say: You will not receive these calls again. Goodbye." in call.heard
    assert BlockEntry.objects.filter(value=monday.phone, reason="opt-out").exists()
    tuesday = CallAttempt.objects.get(reminder=2)
    assert tuesday.outcome == "canceled"
    with time_machine.travel(tuesday.scheduled_for, tick=False):
        run_worker()
    assert len(twilio.created) == 2  # the first call and Monday's: nothing after the 9


def test_a_reminder_asked_for_on_a_line_that_offers_none_or_on_a_reminder_call_adds_nothing(line, settings):
    from django.test import Client

    from .test_webhooks import signed_post, url

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    web = Client(enforce_csrf_checks=True)
    attempt = CallAttempt.objects.create(line=line, phone="+16175232338", outcome="placed")
    response = signed_post(web, url("remind", attempt), {"Digits": "2"})
    assert response.status_code == 200 and "We will call you again" not in response.content.decode()
    line.reminder_count = 3
    line.save()
    reminder = CallAttempt.objects.create(line=line, phone="+16175232338", outcome="placed", reminder=1)
    signed_post(web, url("remind", reminder), {"Digits": "2"})  # reminders follow alone: no second chain
    assert CallAttempt.objects.count() == 2
    response = signed_post(web, url("remind", attempt), {"Digits": "2"})
    assert "We will call you again" in response.content.decode()
    assert CallAttempt.objects.filter(outcome="scheduled", reminder=1).count() == 1
    signed_post(web, url("remind", attempt), {"Digits": "2"})  # the same key again (a retried request)
    assert CallAttempt.objects.filter(outcome="scheduled", reminder=1).count() == 1
