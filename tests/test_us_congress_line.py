"""A line set up to call members of Congress: by the operator command, and the checks on its data."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from clicktocall import lifecycle, targets
from clicktocall.models import CallAttempt, CampaignLine, CongressDataset
from clicktocall.targets.us_congress import checks as us_checks

from .conftest import line_form
from .contract import LINE
from .us_congress import LYNCH, LYNCH_DC, MARKEY, MARKEY_DC, WARREN, WARREN_DC, congress_line

pytestmark = pytest.mark.django_db


def test_an_operator_scripts_a_congress_line():
    out = io.StringIO()
    call_command(
        "clicktocall_line",
        "8559299898",
        "--target-source=us-congress",
        "--chambers=house,senate",
        "--order=house-first",
        "--shuffle",
        "--max=2",
        "--custom-targets=fallback",
        "--split-zip=single",
        "--office=district",
        "--next-office",
        "--caller-id=caller",
        stdout=out,
    )
    line = CampaignLine.objects.get(phone_number=LINE)
    assert (
        line.target_source,
        line.congress_chambers,
        line.congress_order,
        line.congress_shuffle,
        line.congress_max,
        line.congress_custom,
        line.congress_split,
        line.congress_office,
        line.congress_office_fallback,
        line.caller_id,
    ) == ("us-congress", "both", "house-first", True, 2, "fallback", "single", "district", True, "caller")
    assert "targets=us-congress chambers=both order=house-first shuffle=yes max=2" in out.getvalue()
    call_command("clicktocall_line", LINE, "--chambers=senate", "--max=0", "--no-shuffle", stdout=io.StringIO())
    line.refresh_from_db()
    assert (line.congress_chambers, line.congress_max, line.congress_shuffle) == ("senate", None, False)


@pytest.mark.parametrize("bad", [["--chambers=congress"], ["--max=-1"], ["--target-source=council"]])
def test_the_command_refuses_bad_target_options(bad):
    with pytest.raises(CommandError):
        call_command("clicktocall_line", LINE, *bad, stdout=io.StringIO(), stderr=io.StringIO())
    assert not CampaignLine.objects.exists()


def ids() -> list[str]:
    return [message.id for message in us_checks.check_us_congress_data()]


def test_checks_warn_about_old_data_only_for_congress_lines(us_data, settings):
    CongressDataset.objects.update(released=dt.date.today() - dt.timedelta(days=400))
    assert ids() == []  # no line calls members of Congress
    congress_line()
    assert "clicktocall.W070" in ids()
    settings.CLICKTOCALL_US_DATA_MAX_AGE_DAYS = 500
    assert "clicktocall.W070" not in ids()
    settings.CLICKTOCALL_US_DATA_MAX_AGE_DAYS = "soon"
    assert ids() == ["clicktocall.E070"]


def test_checks_say_the_data_is_stale_when_the_120th_congress_has_started(us_data, settings, monkeypatch):
    congress_line()
    settings.CLICKTOCALL_US_DATA_MAX_AGE_DAYS = 10_000
    monkeypatch.setattr(us_checks.timezone, "localdate", lambda: dt.date(2027, 1, 4))
    [warning] = us_checks.check_us_congress_data()
    assert warning.id == "clicktocall.W071" and warning.level == checks.WARNING
    assert "the term of 472 member(s) has ended" in warning.msg
    monkeypatch.setattr(us_checks.timezone, "localdate", lambda: dt.date(2026, 6, 16))
    assert us_checks.check_us_congress_data() == []


# The line's page


def test_the_lines_page_shows_the_data_and_links_the_look_up(admin_client, us_data):
    line = congress_line()
    page = admin_client.get(reverse("admin:clicktocall_campaignline_change", args=[line.pk])).content.decode()
    assert f"version {us_data.version}, released {us_data.released}" in page
    lookup = reverse("admin:clicktocall_campaignline_target_lookup", args=[line.pk])
    assert f'<form id="ctc-target-lookup" method="get" action="{lookup}"></form>' in page
    assert "name='zip' form='ctc-target-lookup'" in page  # the box on the page submits to the look-up
    assert 'name="congress_chambers"' in page and 'name="caller_id"' in page


def test_the_look_up_box_shows_whom_a_call_would_connect_to(admin_client, us_data):
    line = congress_line(congress_order=CampaignLine.ChamberOrder.HOUSE_FIRST)
    url = reverse("admin:clicktocall_campaignline_target_lookup", args=[line.pk])
    page = admin_client.get(url, {"zip": "02113"}).content.decode()
    names = ["Representative Stephen F. Lynch", "Senator Elizabeth Warren", "Senator Edward J. Markey"]
    assert [page.index(name) for name in names] == sorted(page.index(name) for name in names)
    assert f"{LYNCH_DC} (Washington, DC)" in page and "America/New_York" in page
    assert f'{line}</a></li>\n<li aria-current="page">Targets</li>' in page  # the breadcrumbs lead back to the line
    nobody = admin_client.get(url, {"zip": "00000"}).content.decode()
    assert "Nobody" in nobody and "key in their ZIP code" in nobody
    bad = admin_client.get(url, {"zip": "<b>12</b>"})
    assert bad.status_code == 200 and "not a ZIP code" in bad.content.decode() and "<b>12" not in bad.content.decode()


def test_the_preview_calls_the_members_for_the_sample_zip(admin_client, us_data):
    line = congress_line(human_check=CampaignLine.HumanCheck.NONE)
    url = reverse("admin:clicktocall_campaignline_call_preview", args=[line.pk])
    page = admin_client.get(url, {"zip": "02113"}).content.decode()
    assert "Connecting you to Senator Elizabeth Warren." in page and f"Dials {WARREN_DC}" in page
    page = admin_client.get(url, {"zip": ""}).content.decode()
    assert "Please enter your five-digit ZIP code." in page


def test_staff_set_a_line_to_call_members_of_congress(admin_client, line):
    url = reverse("admin:clicktocall_campaignline_change", args=[line.pk])
    data = line_form(phone_number=line.phone_number, target_source="us-congress", congress_chambers="house")
    response = admin_client.post(url, {**data, "congress_max": "1", "congress_office_fallback": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    line.refresh_from_db()
    assert (line.target_source, line.congress_chambers, line.congress_max, line.congress_office_fallback) == (
        "us-congress",
        "house",
        1,
        True,
    )


def test_results_page_and_csv_report_per_member(admin_client, us_data):
    line = congress_line()
    resolved = targets.resolve(line, {"zip": "02113"}).targets
    for connected in [{0, 2}, {0}, set()]:
        attempt = CallAttempt.objects.create(line=line, phone="+16175232338", outcome="placed")
        for position, target in enumerate(resolved):
            lifecycle.start_leg(attempt, position, target)
            status = "completed" if position in connected else "no-answer"
            lifecycle.end_leg(attempt, position, status, duration=60 if position in connected else 0)
    url = reverse("admin:clicktocall_campaignline_stats", args=[line.pk])
    page = admin_client.get(url).content.decode()
    assert f"Senator Elizabeth Warren <small>({WARREN})</small>" in page
    response = admin_client.get(url, {"format": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="-18559299898-targets-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == ["target", "member id", "number", "dialed", "connected"]
    assert sorted(tuple(row[:5]) for row in rows[1:]) == [
        ("Representative Stephen F. Lynch", LYNCH, LYNCH_DC, "3", "1"),
        ("Senator Edward J. Markey", MARKEY, MARKEY_DC, "3", "0"),
        ("Senator Elizabeth Warren", WARREN, WARREN_DC, "3", "2"),
    ]


def test_the_benchmark_runs_on_tiny_sizes(us_data, outbox):
    from benchmarks import congress

    results = congress.run(repeat=1)
    assert results["loading"][0][1] == 42033
    assert [row[1] for row in results["lookups"]] == [2, 3, 4, 6, 0]
    assert [row[1] for row in results["requests"]][0] == [row[1] for row in results["requests"]][1]
    assert "vs own targets" in congress.render(results)
