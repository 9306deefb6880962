"""The line's results: aggregate queries, SVG charts and the admin page."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from clicktocall import charts
from clicktocall.admin.stats import format_duration, optional_url
from clicktocall.models import CallAttempt, CampaignLine
from clicktocall.stats import bounds, default_range, line_stats, offset_changes
from tests.stats_data import Leg, attempt, history

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)


def noon(days_ago: int) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(12), tzinfo=dt.UTC)


@pytest.fixture
def seeded(line, targets):
    warren, pressley = targets
    attempt(line, noon(2), answered=True, duration=120, legs=(Leg(warren, duration=60), Leg(pressley, duration=30)))
    attempt(line, noon(2))
    attempt(line, noon(2), CallAttempt.Outcome.THROTTLED)
    attempt(line, noon(1), answered=True, duration=90, legs=(Leg(warren, duration=45), Leg(pressley, "busy")))
    attempt(line, noon(1), CallAttempt.Outcome.INVALID, phone="")
    attempt(line, noon(40))  # outside the last 30 days
    other = CampaignLine.objects.create(phone_number="+18005550199", name="Other")
    attempt(other, noon(1))  # another line
    return line


def test_line_stats_count_scheduled_calls_and_requests_refused_outside_the_hours(seeded):
    attempt(seeded, noon(1), CallAttempt.Outcome.SCHEDULED)
    attempt(seeded, noon(1), CallAttempt.Outcome.SCHEDULED)
    attempt(seeded, noon(1), CallAttempt.Outcome.OUTSIDE_HOURS)
    stats = line_stats(seeded, *default_range(30, TODAY))
    assert stats.scheduled == 2 and stats.refused["outside-hours"] == 1 and stats.refused_total == 3
    assert ("outside-hours", "Refused: outside hours", 1) in stats.refusal_rows


def test_line_stats_counts_outcomes_targets_and_days(seeded):
    start, end = default_range(30, TODAY)
    stats = line_stats(seeded, start, end)
    assert (stats.requests, stats.placed, stats.answered, stats.connected) == (5, 3, 2, 2)
    assert stats.refused == {
        "invalid": 1,
        "inactive": 0,
        "throttled": 1,
        "blocked": 0,
        "outside-hours": 0,
        "canceled": 0,
        "error": 0,
        "unknown": 0,
    }
    assert stats.refused_total == 2 and stats.scheduled == 0
    assert stats.call_seconds == 210
    assert len(stats.days) == 30 and stats.days[0].date == start and stats.days[-1].date == TODAY
    by_date = {d.date: (d.requests, d.placed, d.refused) for d in stats.days if d.requests}
    assert by_date == {TODAY - dt.timedelta(days=2): (3, 2, 1), TODAY - dt.timedelta(days=1): (2, 1, 1)}
    rows = {row.name: row for row in stats.targets}
    assert (rows["Sen. Warren"].legs, rows["Sen. Warren"].connected, rows["Sen. Warren"].total_duration) == (2, 2, 105)
    assert rows["Sen. Warren"].average_duration == pytest.approx(52.5)
    assert (rows["Rep. Pressley"].legs, rows["Rep. Pressley"].connected, rows["Rep. Pressley"].total_duration) == (
        2,
        1,
        30,
    )
    assert stats.targets[0].name == "Sen. Warren"  # most connections first


def test_range_includes_both_ends_and_nothing_else(seeded):
    day = TODAY - dt.timedelta(days=2)
    stats = line_stats(seeded, day, day)
    assert stats.requests == 3 and [d.requests for d in stats.days] == [3]
    assert line_stats(seeded, TODAY - dt.timedelta(days=45), TODAY).requests == 6


def test_days_follow_the_current_time_zone(line):
    # 03:00 UTC on Nov 20 is still Nov 19 in New York.
    attempt(line, dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC))
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        stats = line_stats(line, dt.date(2026, 11, 19), dt.date(2026, 11, 20))
    assert [d.requests for d in stats.days] == [1, 0]
    stats = line_stats(line, dt.date(2026, 11, 19), dt.date(2026, 11, 20))
    assert [d.requests for d in stats.days] == [0, 1]


def test_query_count_does_not_grow_with_the_attempts(line, targets, django_assert_max_num_queries):
    history(line, targets, days=3, today=TODAY)
    start, end = TODAY - dt.timedelta(days=2), TODAY
    with django_assert_max_num_queries(2) as few:
        small = line_stats(line, start, end)
    history(line, targets, days=3, today=TODAY, seed=7)
    with django_assert_max_num_queries(len(few.captured_queries)):
        large = line_stats(line, start, end)
    assert large.requests > small.requests > 0


def test_column_chart_draws_one_bar_per_day_with_an_accessible_name():
    svg = charts.column_chart(
        "c1",
        [charts.Bar("Nov 1", (3, 1), "Nov 1: 4"), charts.Bar("Nov 2", (0, 0)), charts.Bar("<b>", (7, 0))],
        title="Calls & days",
        desc="Three days",
        series=["Placed", "Refused"],
    )
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Calls &amp; days</title>' in svg and "<b>" not in svg
    assert re.findall(r'data-total="(\d+)"', svg) == ["4", "0", "7"]
    groups = re.findall(r'<g class="ctc-bar"[^>]*>(.*?)</g>', svg)
    heights = [[float(h) for h in re.findall(r'height="([\d.]+)"', group)] for group in groups]
    assert [len(h) for h in heights] == [2, 0, 1]  # placed + refused, nothing, placed only
    assert heights[2][0] == pytest.approx(7 * heights[0][1]) and heights[0][0] == pytest.approx(3 * heights[0][1])


def test_nice_max_and_durations():
    assert [charts.nice_max(v) for v in (0, 1, 3, 7, 12, 51, 100, 101)] == [1, 1, 5, 10, 20, 100, 100, 200]
    assert [format_duration(s) for s in (None, 5, 75, 3725)] == ["—", "5s", "1m 15s", "1h 02m"]


def test_optional_url_is_none_until_the_view_exists():
    assert optional_url("admin:index", []) == "/admin/"
    assert optional_url("admin:clicktocall_campaignline_nothing_here", [1]) is None


@pytest.fixture
def staff(client):
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_campaignline"))
    client.force_login(user)
    return user


def stats_url(line) -> str:
    return f"/admin/clicktocall/campaignline/{line.pk}/stats/"


def test_stats_page_shows_charts_and_tables(client, staff, seeded, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    r = client.get(stats_url(seeded))
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count('role="img"') >= 3  # days, outcomes, targets
    days_svg = html[html.index('id="ctc-chart-days"') :]
    days_svg = days_svg[: days_svg.index("</svg>")]
    assert len(re.findall(r'class="ctc-bar"', days_svg)) == 30
    assert '<dd id="ctc-total-requests">5</dd>' in html and '<dd id="ctc-total-connected">2</dd>' in html
    assert "Refused: too quickly" in html and "Sen. Warren" in html and "1m 45s" in html
    assert 'value="2026-10-22"' in html and 'value="2026-11-20"' in html


def test_stats_page_honours_the_range_and_refuses_a_bad_one(client, staff, seeded):
    day = TODAY - dt.timedelta(days=1)
    r = client.get(stats_url(seeded), {"start": day.isoformat(), "end": day.isoformat()})
    assert r.status_code == 200 and r.context["stats"].requests == 2 and len(r.context["stats"].days) == 1
    r = client.get(stats_url(seeded), {"start": "2026-11-20", "end": "2026-11-01"})
    assert r.status_code == 200 and "start date must be on or before" in r.content.decode()
    assert len(r.context["stats"].days) == 30  # the default range instead
    r = client.get(stats_url(seeded), {"start": "2020-01-01", "end": "2026-01-01"})
    assert "at most 366 days" in r.content.decode()
    r = client.get(stats_url(seeded), {"start": "yesterday", "end": "<script>"})
    assert r.status_code == 200 and "<script>" not in r.content.decode().split("</form>")[0].split("ctc-range")[1]


def test_stats_page_needs_permission(client, seeded):
    assert client.get(stats_url(seeded)).status_code == 302  # to the login page
    user = User.objects.create_user("nobody", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(stats_url(seeded)).status_code == 403


def test_stats_page_of_a_missing_line_redirects(client, staff, db):
    assert client.get("/admin/clicktocall/campaignline/999/stats/").status_code == 302


def test_change_page_links_to_stats_and_shows_the_snippets(client, staff, line, settings):
    settings.CLICKTOCALL_PUBLIC_URL = "https://calls.example.org"
    r = client.get(f"/admin/clicktocall/campaignline/{line.pk}/change/")
    html = r.content.decode()
    assert r.status_code == 200
    assert f'href="/admin/clicktocall/campaignline/{line.pk}/stats/"' in html
    assert "action=&quot;https://calls.example.org/outgoing/&quot;" in html
    assert "src=&quot;https://calls.example.org/static/clicktocall/widget.js&quot;" in html
    assert "data-campaign-line=&quot;+18559299898&quot;" in html
    assert "name=&quot;revmsghtml&quot;" in html
    assert "Copy the widget snippet" in html and "clicktocall/admin/copy.js" in html
    assert 'href="/api/">API documentation</a>' in html


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_days_follow_daylight_saving_time_changes(line, zone):
    tz = zoneinfo.ZoneInfo(zone)
    start, end = dt.date(2025, 11, 20), dt.date(2026, 11, 19)
    with timezone.override(tz):
        changes = offset_changes(*bounds(start, end), tz)
        assert len(changes) == (1 if zone == "Asia/Kolkata" else 3)
        moments = [bounds(start, end)[0], bounds(start, end)[1] - dt.timedelta(microseconds=1)]
        for when, _ in changes:
            moments += [when - dt.timedelta(microseconds=1), when, when + dt.timedelta(minutes=30, seconds=1)]
            # Both sides of local midnight on the days of the change.
            for day in (when.astimezone(tz).date(), when.astimezone(tz).date() + dt.timedelta(days=1)):
                midnight = bounds(day, day)[0]
                moments += [midnight - dt.timedelta(microseconds=1), midnight]
        for when in moments:
            attempt(line, when)
        stats = line_stats(line, start, end)
    expected: dict[dt.date, int] = {}
    for when in moments:
        day = when.astimezone(tz).date()
        if start <= day <= end:
            expected[day] = expected.get(day, 0) + 1
    assert {day.date: day.requests for day in stats.days if day.requests} == expected
    assert stats.requests == sum(expected.values()) >= 7


def test_offset_changes_are_found_to_the_second():
    tz = zoneinfo.ZoneInfo("America/New_York")
    low = dt.datetime(2026, 1, 1, tzinfo=tz)
    changes = offset_changes(low, dt.datetime(2027, 1, 1, tzinfo=tz), tz)
    assert [(when.isoformat(), offset.total_seconds() / 3600) for when, offset in changes] == [
        ("2026-01-01T05:00:00+00:00", -5),
        ("2026-03-08T07:00:00+00:00", -4),
        ("2026-11-01T06:00:00+00:00", -5),
    ]
