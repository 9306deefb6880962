"""Office hours: when offices are open, and calls asked for outside the hours (frozen clocks)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from clicktocall import blocklist
from clicktocall.hours import schedule
from clicktocall.hours.schedule import Hours
from clicktocall.models import CallAttempt, Target

from .contract import ERROR, PLACED, VALID, message

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
UTC = dt.UTC
DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def at(zone: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


# The computation, alone


def test_open_in_the_window_on_weekdays_only():
    hours = Hours()
    assert schedule.is_open(hours, NEW_YORK, at(NEW_YORK, 2026, 12, 1, 9, 0))  # a Tuesday
    assert schedule.is_open(hours, NEW_YORK, at(NEW_YORK, 2026, 12, 1, 16, 59))
    assert not schedule.is_open(hours, NEW_YORK, at(NEW_YORK, 2026, 12, 1, 17, 0))
    assert not schedule.is_open(hours, NEW_YORK, at(NEW_YORK, 2026, 12, 1, 8, 59))
    assert not schedule.is_open(hours, NEW_YORK, at(NEW_YORK, 2026, 12, 5, 12, 0))  # Saturday


def test_saturday_night_opens_monday_morning_in_the_offices_zone():
    saturday_night = at(NEW_YORK, 2026, 12, 5, 23, 30)
    assert schedule.next_opening(Hours(), NEW_YORK, saturday_night) == at(NEW_YORK, 2026, 12, 7, 9, 0)
    # The same instant, for an office on the west coast: 9:00 there, noon in New York.
    opening = schedule.next_opening(Hours(), LOS_ANGELES, saturday_night)
    assert opening == at(LOS_ANGELES, 2026, 12, 7, 9, 0) and opening.astimezone(UTC).hour == 17


def test_opening_follows_the_local_clock_across_daylight_saving_changes():
    # Clocks go forward on Sunday 14 March 2027: 9:00 on Monday is 13:00 UTC, not 14:00 as on Friday.
    friday = schedule.next_opening(Hours(), NEW_YORK, at(NEW_YORK, 2027, 3, 12, 6, 0))
    monday = schedule.next_opening(Hours(), NEW_YORK, at(NEW_YORK, 2027, 3, 13, 22, 0))
    assert friday.astimezone(UTC).time() == dt.time(14) and monday.astimezone(UTC).time() == dt.time(13)
    assert monday.astimezone(UTC) - friday.astimezone(UTC) == dt.timedelta(days=3, hours=-1)
    # And back on Sunday 7 November 2027.
    monday = schedule.next_opening(Hours(), NEW_YORK, at(NEW_YORK, 2027, 11, 6, 22, 0))
    assert monday.astimezone(UTC) == dt.datetime(2027, 11, 8, 14, 0, tzinfo=UTC)
    # A window opening in the hour that does not exist starts when the clock shows it after the change.
    night = Hours(days=frozenset(range(7)), opens=dt.time(2, 30), closes=dt.time(5))
    opening = schedule.next_opening(night, NEW_YORK, at(NEW_YORK, 2027, 3, 14, 0, 0))
    assert opening.astimezone(UTC) == dt.datetime(2027, 3, 14, 7, 30, tzinfo=UTC)


def test_federal_holidays_are_closed_unless_listed_as_open_and_other_dates_can_be_closed():
    thanksgiving = at(NEW_YORK, 2026, 11, 26, 10, 0)
    assert schedule.holiday_name(thanksgiving.date()) == "Thanksgiving Day"
    assert not schedule.is_open(Hours(), NEW_YORK, thanksgiving)
    assert schedule.next_opening(Hours(), NEW_YORK, thanksgiving) == at(NEW_YORK, 2026, 11, 27, 9, 0)
    assert schedule.is_open(Hours(us_holidays=False), NEW_YORK, thanksgiving)
    assert schedule.is_open(Hours(open_dates=frozenset({thanksgiving.date()})), NEW_YORK, thanksgiving)
    # Christmas 2027 falls on a Saturday: the holiday is observed on Friday the 24th.
    closed = Hours(closed=frozenset({dt.date(2027, 12, 27)}))
    assert schedule.next_opening(closed, NEW_YORK, at(NEW_YORK, 2027, 12, 23, 18, 0)) == at(
        NEW_YORK, 2027, 12, 28, 9, 0
    )


def test_a_visitor_is_never_called_at_night():
    # Offices open at 9:00 in New York: 6:00 in Los Angeles, too early for a visitor there.
    office = list(schedule.windows(Hours(), NEW_YORK, at(NEW_YORK, 2026, 12, 5, 23, 0), days=5))
    visitor = schedule.visitor_windows(LOS_ANGELES, at(NEW_YORK, 2026, 12, 5, 23, 0), days=5)
    first = schedule.first_common(at(NEW_YORK, 2026, 12, 5, 23, 0), office, visitor)
    assert first == at(LOS_ANGELES, 2026, 12, 7, 8, 0)


def test_dates_and_days_are_read_leniently_and_bad_lines_named():
    dates, bad = schedule.parse_dates("2026-12-24 Christmas Eve\n\n  2026-12-31\nnext friday\n")
    assert dates == {dt.date(2026, 12, 24), dt.date(2026, 12, 31)} and bad == ["next friday"]
    assert schedule.parse_days("12345") == schedule.WEEKDAYS and schedule.parse_days("") == frozenset()


# Call-backs through /outgoing and the task worker

pytestmark_db = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker_queue(settings):
    settings.TASKS = DATABASE_BACKEND
    return settings


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


@pytest.fixture
def hours_line(line):
    line.hours_enabled = True
    line.outside_hours = line.OutsideHours.CALL_BACK
    line.save()
    return line


def west_coast_target(line) -> Target:
    return Target.objects.create(
        line=line, name="Rep. West", phone_number="+12022255111", time_zone="America/Los_Angeles"
    )


@pytestmark_db
def test_saturday_night_request_is_placed_monday_at_opening_in_the_targets_zone(
    worker_queue, client, hours_line, outbox
):
    west_coast_target(hours_line)
    with time_machine.travel(at(NEW_YORK, 2026, 12, 5, 23, 30), tick=False):
        response = client.post("/outgoing", VALID)
        assert response.status_code == 200 and message(response) == PLACED
        run_worker()
    attempt = CallAttempt.objects.get()
    monday_opening = at(LOS_ANGELES, 2026, 12, 7, 9, 0)
    assert attempt.outcome == "scheduled" and attempt.scheduled_for == monday_opening and outbox == []
    assert DBTaskResult.objects.get().run_after == monday_opening

    with time_machine.travel(monday_opening - dt.timedelta(seconds=1), tick=False):
        run_worker()  # one second early: nothing
    assert outbox == []
    with time_machine.travel(monday_opening, tick=False):
        run_worker()
    attempt.refresh_from_db()
    assert attempt.outcome == "placed" and [call.to for call in outbox] == ["+16175232338"]


@pytestmark_db
def test_a_visitor_whose_zip_is_on_the_west_coast_is_called_in_their_morning(worker_queue, client, hours_line):
    Target.objects.create(line=hours_line, name="Sen. East", phone_number="+12022244543")  # New York hours
    with time_machine.travel(at(NEW_YORK, 2026, 12, 5, 23, 30), tick=False):
        assert message(client.post("/outgoing", {**VALID, "zip": "94110"})) == PLACED
    assert CallAttempt.objects.get().scheduled_for == at(LOS_ANGELES, 2026, 12, 7, 8, 0)


@pytestmark_db
@pytest.mark.parametrize("zip_code", ["١٢٣٤٥", "²²²²²", "٠١٢٣٤-٥٦٧٨", "0" * 200, "99999", "{}"])
def test_a_zip_code_of_any_kind_never_breaks_a_call_back(worker_queue, client, hours_line, zip_code):
    with time_machine.travel(at(NEW_YORK, 2026, 12, 5, 23, 30), tick=False):
        response = client.post("/outgoing", {**VALID, "zip": zip_code})
    assert message(response) == PLACED
    assert CallAttempt.objects.get().scheduled_for == at(NEW_YORK, 2026, 12, 7, 9, 0)  # the number's zone


@pytestmark_db
def test_a_request_on_a_holiday_is_called_back_the_next_working_day(worker_queue, client, hours_line):
    with time_machine.travel(at(NEW_YORK, 2026, 11, 26, 10, 0), tick=False):  # Thanksgiving
        assert message(client.post("/outgoing", VALID)) == PLACED
    assert CallAttempt.objects.get().scheduled_for == at(NEW_YORK, 2026, 11, 27, 9, 0)


@pytestmark_db
def test_calls_due_at_one_opening_are_spread_at_the_providers_rate(worker_queue, client, hours_line, settings):
    settings.CLICKTOCALL_PROVIDER_CPS = 2
    with time_machine.travel(at(NEW_YORK, 2026, 12, 5, 23, 30), tick=False):
        for number in ("6175232338", "6175232339", "6175232340"):
            assert message(client.post("/outgoing", {**VALID, "phone": number})) == PLACED
    opening = at(NEW_YORK, 2026, 12, 7, 9, 0)
    slots = sorted(CallAttempt.objects.values_list("scheduled_for", flat=True))
    assert slots == [opening, opening + dt.timedelta(seconds=0.5), opening + dt.timedelta(seconds=1)]
    assert sorted(DBTaskResult.objects.values_list("run_after", flat=True)) == slots


@pytestmark_db
def test_in_the_hours_the_call_is_placed_at_once(worker_queue, client, hours_line, outbox):
    with time_machine.travel(at(NEW_YORK, 2026, 12, 7, 10, 0), tick=False):
        assert message(client.post("/outgoing", VALID)) == PLACED
    assert CallAttempt.objects.get().outcome == "placed" and len(outbox) == 1


@pytestmark_db
def test_a_line_that_refuses_outside_the_hours_answers_the_error_and_records_why(client, hours_line, outbox):
    hours_line.outside_hours = hours_line.OutsideHours.REFUSE
    hours_line.save()
    with time_machine.travel(at(NEW_YORK, 2026, 12, 5, 23, 30), tick=False):
        response = client.post("/outgoing", VALID)
    assert response.status_code == 400 and message(response) == ERROR
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "outside-hours" and attempt.get_outcome_display() == "Refused: outside hours"
    assert outbox == []


@pytestmark_db
def test_a_line_set_to_call_now_anyway_calls_at_night(client, hours_line, outbox):
    hours_line.outside_hours = hours_line.OutsideHours.CALL_NOW
    hours_line.save()
    with time_machine.travel(at(NEW_YORK, 2026, 12, 5, 23, 30), tick=False):
        assert message(client.post("/outgoing", VALID)) == PLACED
    assert CallAttempt.objects.get().outcome == "placed" and len(outbox) == 1


@pytestmark_db
def test_a_scheduled_call_whose_number_opted_out_meanwhile_is_not_placed(worker_queue, client, hours_line, outbox):
    with time_machine.travel(at(NEW_YORK, 2026, 12, 5, 23, 30), tick=False):
        assert message(client.post("/outgoing", VALID)) == PLACED
    blocklist.add_opt_out("+16175232338", note="pressed 9 during another campaign's call")
    with time_machine.travel(at(NEW_YORK, 2026, 12, 7, 9, 0), tick=False):
        run_worker()
    attempt = CallAttempt.objects.get()
    assert outbox == [] and attempt.outcome == "blocked" and "blocklist" in attempt.error_detail


@pytestmark_db
def test_a_worker_running_late_waits_for_the_next_opening(worker_queue, client, hours_line, outbox):
    with time_machine.travel(at(NEW_YORK, 2026, 12, 5, 23, 30), tick=False):
        assert message(client.post("/outgoing", VALID)) == PLACED
    with time_machine.travel(at(NEW_YORK, 2026, 12, 7, 22, 0), tick=False):  # the worker was down all Monday
        run_worker()
    attempt = CallAttempt.objects.get()
    assert outbox == [] and attempt.outcome == "scheduled"
    assert attempt.scheduled_for == at(NEW_YORK, 2026, 12, 8, 9, 0)
    with time_machine.travel(at(NEW_YORK, 2026, 12, 8, 9, 0), tick=False):
        run_worker()
    attempt.refresh_from_db()
    assert attempt.outcome == "placed" and len(outbox) == 1


def scheduled_attempt(line, when: dt.datetime) -> CallAttempt:
    from clicktocall.placement import place_attempt

    attempt = CallAttempt.objects.create(line=line, phone="+16175232338", outcome="scheduled", scheduled_for=when)
    place_attempt.using(run_after=when).enqueue(attempt.pk)
    return attempt


@pytestmark_db
def test_a_scheduled_call_whose_task_is_stored_twice_is_placed_once(worker_queue, hours_line, outbox):
    monday = at(NEW_YORK, 2026, 12, 7, 9, 0)
    attempt = scheduled_attempt(hours_line, monday)
    from clicktocall.placement import place_attempt

    place_attempt.using(run_after=monday).enqueue(attempt.pk)  # a duplicate, as after a redelivery
    with time_machine.travel(monday, tick=False):
        run_worker()
    assert [call.attempt_token for call in outbox] == [attempt.token]
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == ["placed", "skipped"]


@pytest.mark.postgres
@pytestmark_db
def test_two_workers_place_a_scheduled_call_once(worker_queue, hours_line, outbox):
    from django.db import connection

    from .test_placement import place_concurrently

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serializes them)")
    monday = at(NEW_YORK, 2026, 12, 7, 9, 0)
    attempt = scheduled_attempt(hours_line, monday)
    with time_machine.travel(monday, tick=False):
        results = place_concurrently(attempt.pk, 2)
    assert sorted(results) == ["placed", "skipped"] and len(outbox) == 1


@pytestmark_db
def test_a_scheduled_call_cancelled_by_staff_is_not_placed(worker_queue, hours_line, outbox):
    from clicktocall.hours import callbacks

    monday = at(NEW_YORK, 2026, 12, 7, 9, 0)
    attempt = scheduled_attempt(hours_line, monday)
    assert callbacks.cancel(CallAttempt.objects.filter(line=hours_line)) == 1
    with time_machine.travel(monday, tick=False):
        run_worker()
    attempt.refresh_from_db()
    assert outbox == [] and attempt.outcome == "canceled"


@pytestmark_db
def test_without_a_backend_that_runs_tasks_later_a_call_back_is_an_error_with_its_record(client, hours_line, outbox):
    # The immediate backend (the tests' default) cannot hold a task until Monday.
    with time_machine.travel(at(NEW_YORK, 2026, 12, 5, 23, 30), tick=False):
        response = client.post("/outgoing", VALID)
    assert response.status_code == 400 and message(response) == ERROR
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "error" and "could not schedule" in attempt.error_detail and outbox == []


# Which zone an office's hours are read in, and the visitor's


def test_an_offices_zone_comes_from_the_data_the_target_or_the_line(line):
    from clicktocall.hours import offices
    from clicktocall.targets import Office, ResolvedTarget

    district = ResolvedTarget(
        "Rep. Mountain", (Office("+13035550100", office_id="co-1", time_zone="America/Denver"),), kind="house"
    )
    dc = ResolvedTarget("Rep. Mountain", (Office("+12025550100", office_id="dc", time_zone="America/New_York"),))
    own = ResolvedTarget("Office", (Office("+12025550101", time_zone="America/Chicago"),), target_id=1)
    no_zone = ResolvedTarget("Office", (Office("+12025550102"),), target_id=2)
    assert offices.for_target(line, district).tz.key == "America/Denver"
    assert offices.for_target(line, dc).tz.key == "America/New_York"
    assert offices.for_target(line, no_zone).tz.key == "America/New_York"  # the line's (toll-free) number: the default
    line.hours_time_zone = "America/Phoenix"  # staff name one zone for the line
    assert offices.for_target(line, district).tz.key == "America/Phoenix"
    assert offices.for_target(line, no_zone).tz.key == "America/Phoenix"
    assert offices.for_target(line, own).tz.key == "America/Chicago"  # a target set with its own zone keeps it


def test_the_visitors_zone_comes_from_the_zip_code_else_the_numbers_area():
    from clicktocall.hours import offices

    assert offices.visitor_zone({"zip": "94110"}, "+16175232338") == "America/Los_Angeles"
    assert offices.visitor_zone({"zip": "80202-1234"}, "") == "America/Denver"
    assert offices.visitor_zone({}, "+16175232338") == "America/New_York"
    assert offices.visitor_zone({"zip": "00000"}, "+13035550100") == "America/Denver"
    assert offices.visitor_zone({"zip": ["x"]}, "+18005550100") == ""  # neither tells
    assert offices.visitor_zone({"zip": "9411"}, "not a number") == ""
    assert offices.visitor_zone({"zip": "١٢٣٤٥"}, "") == ""  # digits, but not ASCII ones


@pytestmark_db
def test_retention_leaves_a_scheduled_call_its_number_until_it_is_placed(hours_line):
    with time_machine.travel(at(NEW_YORK, 2026, 8, 1, 12, 0)):
        waiting = CallAttempt.objects.create(line=hours_line, phone="+16175232338", outcome="scheduled")
        done = CallAttempt.objects.create(line=hours_line, phone="+16175232338", outcome="placed")
    call_command("clicktocall_retention", "--days", "30", verbosity=0)
    waiting.refresh_from_db()
    done.refresh_from_db()
    assert waiting.phone == "+16175232338" and done.phone == ""


@pytestmark_db
def test_members_of_congress_are_called_in_their_offices_hours(worker_queue, client, us_data, outbox):
    from .us_congress import congress_line

    line = congress_line(hours_enabled=True, congress_office="district")
    tuesday_evening = at(NEW_YORK, 2026, 12, 1, 18, 30)  # 15:30 in California
    request = {**VALID, "phone": "4155550123", "zip": "94110"}
    with time_machine.travel(tuesday_evening, tick=False):
        # The San Francisco district offices are open.
        assert message(client.post("/outgoing", request)) == PLACED
        assert CallAttempt.objects.get().outcome == "placed"
        # Their Washington offices are closed: called back when they open, in the caller's morning.
        line.congress_office = "dc"
        line.save()
        assert message(client.post("/outgoing", {**request, "phone": "4155550124"})) == PLACED
    attempt = CallAttempt.objects.get(outcome="scheduled")
    assert attempt.scheduled_for == at(LOS_ANGELES, 2026, 12, 2, 8, 0)  # 11:00 in Washington


@pytest.mark.postgres
@pytestmark_db
def test_a_scheduled_call_is_placed_by_a_worker_started_afterwards_in_its_own_process(worker_queue, line):
    """The call waits in the database, not in a process: a worker started later (a restart) places it."""
    from django.db import connection
    from django.utils import timezone

    from .test_placement import worker_process

    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a database server it can share with the test")
    attempt = scheduled_attempt(line, timezone.now() - dt.timedelta(seconds=1))
    done = worker_process()
    assert done.returncode == 0, done.stderr
    attempt.refresh_from_db()
    assert attempt.outcome == "placed" and attempt.provider_call_id.startswith("CA")
