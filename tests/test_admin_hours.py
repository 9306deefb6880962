"""Office hours in the admin: the settings, the line's state now, cancelling scheduled calls, a preview at a time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from clicktocall.models import CallAttempt, CampaignLine, Target

from .conftest import line_form

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
SATURDAY_NIGHT = dt.datetime(2026, 12, 5, 23, 30, tzinfo=NEW_YORK)


@pytest.fixture
def hours_line(line):
    line.hours_enabled = True
    line.hours_time_zone = "America/New_York"
    line.save()
    Target.objects.create(line=line, position=0, name="Office A", phone_number="+12025550100")
    Target.objects.create(
        line=line, position=1, name="Office West", phone_number="+12025550101", time_zone="America/Los_Angeles"
    )
    return line


def change_url(line: CampaignLine) -> str:
    return reverse("admin:clicktocall_campaignline_change", args=[line.pk])


def scheduled(line: CampaignLine, phone: str = "+16175232338") -> CallAttempt:
    when = dt.datetime(2026, 12, 7, 14, 0, tzinfo=dt.UTC)
    return CallAttempt.objects.create(line=line, phone=phone, outcome="scheduled", scheduled_for=when)


def test_the_line_page_shows_it_is_closed_the_next_opening_and_the_scheduled_count(client, admin_user, hours_line):
    scheduled(hours_line)
    scheduled(hours_line, "+16175232339")
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        client.force_login(admin_user)
        html = client.get(change_url(hours_line)).content.decode()
    assert "Outside its hours now." in html and "Next opening: Mon 07 Dec 2026, 14:00 UTC" in html
    assert "2 call(s) scheduled" in html and "outcome__exact=scheduled" in html
    assert "Fri 25 Dec 2026 Christmas Day" in html  # the holidays ahead
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=NEW_YORK), tick=False):
        client.force_login(admin_user)
        assert "In its hours now." in client.get(change_url(hours_line)).content.decode()


def test_staff_set_the_hours_and_bad_zones_or_dates_are_explained(admin_client, line):
    data = line_form(phone_number=line.phone_number, name=line.name) | {
        "hours_enabled": "on",
        "hours_days": ["1", "3", "5"],
        "hours_opens": "10:00",
        "hours_closes": "16:30",
        "hours_time_zone": "America/Chicago",
        "hours_closed_dates": "2026-12-24 Christmas Eve",
        "outside_hours": "refuse",
        "reminder_count": "3",
    }
    response = admin_client.post(change_url(line), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    line.refresh_from_db()
    assert (line.hours_days, line.hours_opens, line.hours_time_zone, line.outside_hours, line.reminder_count) == (
        "135",
        dt.time(10),
        "America/Chicago",
        "refuse",
        3,
    )

    response = admin_client.post(change_url(line), data | {"hours_days": []})
    assert "Tick the days the offices open" in response.content.decode()
    bad = data | {"hours_time_zone": "Mars/Olympus", "hours_closed_dates": "2026-12-24\nsoon"}
    response = admin_client.post(change_url(line), bad)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mars/Olympus is not a time zone name" in html and "one date per line" in html and "soon" in html
    line.refresh_from_db()
    assert line.hours_time_zone == "America/Chicago"


def test_staff_cancel_one_scheduled_call_or_all_of_a_line(admin_client, hours_line):
    first, second, third = scheduled(hours_line), scheduled(hours_line), scheduled(hours_line)
    placed = CallAttempt.objects.create(line=hours_line, phone="+16175232338", outcome="placed")
    url = reverse("admin:clicktocall_callattempt_changelist")
    response = admin_client.post(url, {"action": "cancel_selected_calls", "_selected_action": [first.pk, placed.pk]})
    assert response.status_code == 302
    assert dict(CallAttempt.objects.values_list("pk", "outcome")) == {
        first.pk: "canceled",
        second.pk: "scheduled",
        third.pk: "scheduled",
        placed.pk: "placed",
    }
    url = reverse("admin:clicktocall_campaignline_changelist")
    response = admin_client.post(url, {"action": "cancel_line_calls", "_selected_action": [hours_line.pk]})
    assert response.status_code == 302
    assert sorted(CallAttempt.objects.values_list("outcome", flat=True)) == ["canceled"] * 3 + ["placed"]


def test_staff_who_only_view_attempts_cannot_cancel(client, hours_line):
    attempt = scheduled(hours_line)
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_callattempt", "view_campaignline"]))
    client.force_login(user)
    url = reverse("admin:clicktocall_callattempt_changelist")
    client.post(url, {"action": "cancel_selected_calls", "_selected_action": [attempt.pk]})
    attempt.refresh_from_db()
    assert attempt.outcome == "scheduled"


def test_the_preview_shows_the_call_at_a_chosen_date_and_time(admin_client, hours_line):
    url = reverse("admin:clicktocall_campaignline_call_preview", args=[hours_line.pk])
    # Tuesday 22:00 UTC: 17:00 in New York (closed), 14:00 in Los Angeles (open).
    html = admin_client.get(url, {"at": "2026-12-01T22:00"}).content.decode()
    assert "Says: &quot;Office A&#x27;s office is closed now.&quot;" in html
    assert "Dials +12025550101" in html and "Dials +12025550100" not in html
    assert "These offices are closed then and skipped: Office A." in html
    html = admin_client.get(url, {"at": "2026-12-05T12:00"}).content.decode()
    assert "Outside the line&#x27;s hours: the call is scheduled for Mon 07 Dec 2026, 14:00 UTC." in html
    html = admin_client.get(url, {"at": "not a time"}).content.decode()
    assert "Enter a date and time like 2026-12-07T09:30." in html


def test_the_line_page_warns_when_the_task_backend_cannot_call_back_later(admin_client, hours_line, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    assert "cannot run a call later" in admin_client.get(change_url(hours_line)).content.decode()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert "cannot run a call later" not in admin_client.get(change_url(hours_line)).content.decode()


def test_a_target_gets_its_own_zone_and_hours_inline(admin_client, line):
    data = line_form(phone_number=line.phone_number, name=line.name) | {
        "targets-TOTAL_FORMS": "1",
        "targets-INITIAL_FORMS": "0",
        "targets-0-position": "0",
        "targets-0-name": "Weekend office",
        "targets-0-phone_number": "+12025550100",
        "targets-0-is_active": "on",
        "targets-0-time_zone": "America/Denver",
        "targets-0-hours_days": ["6", "7"],
        "targets-0-hours_opens": "10:00",
    }
    response = admin_client.post(change_url(line), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    target = line.targets.get()
    assert (target.time_zone, target.hours_days, target.hours_opens, target.hours_closes) == (
        "America/Denver",
        "67",
        dt.time(10),
        None,
    )
    response = admin_client.post(change_url(line), data | {"targets-0-time_zone": "Denver"})
    assert response.status_code == 200 and "Denver is not a time zone name" in response.content.decode()
