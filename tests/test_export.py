"""CSV exports of attempts (admin action, a line's date range) and the large-table admin."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clicktocall.admin.large_tables import LargeTablePaginator
from clicktocall.export import COLUMNS, stream_csv
from clicktocall.models import CallAttempt, CampaignLine

pytestmark = pytest.mark.django_db


def at(day: str, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(f"{day}T{hour:02d}:00:00"))


def attempt(line, when: datetime, **fields) -> CallAttempt:
    record = CallAttempt.objects.create(line=line, phone=fields.pop("phone", "+16175232338"), **fields)
    CallAttempt.objects.filter(pk=record.pk).update(created_at=when)
    return record


def read_csv(response) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def other_line(db):
    return CampaignLine.objects.create(phone_number="+18005550123", name="Other")


def test_stream_csv_writes_a_header_and_one_row_per_attempt_oldest_first(line):
    late = attempt(line, at("2026-03-02"), name="Ann", email="ann@example.org", variables={"zip": "02113"})
    early = attempt(line, at("2026-03-01"), outcome="error", error_detail="HTTP 503, retried")
    rows = list(csv.reader(io.StringIO("".join(stream_csv(CallAttempt.objects.all())))))
    assert rows[0] == [header for header, _ in COLUMNS] + ["variable: zip"]
    assert [row[0] for row in rows[1:]] == [str(early.pk), str(late.pk)]
    record = dict(zip(rows[0], rows[2], strict=True))
    assert record["phone"] == "+16175232338" and record["line"] == "+18559299898"
    assert record["name"] == "Ann" and record["variable: zip"] == "02113"
    assert record["requested"] == "2026-03-02T12:00:00+00:00"
    assert dict(zip(rows[0], rows[1], strict=True))["error detail"] == "HTTP 503, retried"


def test_text_a_visitor_typed_cannot_become_a_spreadsheet_formula(line):
    attempt(line, at("2026-03-01"), name='=HYPERLINK("http://evil.example","x")', email="@SUM(A1)", user_agent="-2+3")
    (row,) = csv.DictReader(io.StringIO("".join(stream_csv(CallAttempt.objects.all()))))
    assert row["name"].startswith("'=HYPERLINK(") and row["email"] == "'@SUM(A1)" and row["user agent"] == "'-2+3"
    assert row["phone"] == "+16175232338"  # numbers stay as they are


def test_line_export_streams_the_lines_attempts_in_the_date_range(admin_client, line, other_line):
    attempt(line, at("2026-02-28", 23))
    inside = [attempt(line, at("2026-03-01", 0)), attempt(line, at("2026-03-31", 23))]
    attempt(line, at("2026-04-01", 0))
    attempt(other_line, at("2026-03-15"))
    url = reverse("admin:clicktocall_campaignline_export", args=[line.pk])
    assert url == f"/admin/clicktocall/campaignline/{line.pk}/export/"

    response = admin_client.get(url, {"start": "2026-03-01", "end": "2026-03-31"})

    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="attempts-18559299898-2026-03-01-to-2026-03-31.csv"'
    assert [int(row["id"]) for row in read_csv(response)] == [a.pk for a in inside]


def test_line_export_without_dates_exports_all_of_the_lines_attempts(admin_client, line, other_line):
    mine = [attempt(line, at("2025-01-01")), attempt(line, at("2026-06-01"))]
    attempt(other_line, at("2026-01-01"))
    response = admin_client.get(reverse("admin:clicktocall_campaignline_export", args=[line.pk]))
    assert [int(row["id"]) for row in read_csv(response)] == [a.pk for a in mine]


@pytest.mark.parametrize(
    "query, message",
    [
        ({"start": "March 1st"}, "start must be a date like 2026-01-31"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "start must not be after end"),
    ],
)
def test_line_export_with_bad_dates_goes_back_to_the_line_with_a_message(admin_client, line, query, message):
    url = reverse("admin:clicktocall_campaignline_export", args=[line.pk])
    response = admin_client.get(url, query, follow=True)
    assert response.redirect_chain == [(f"/admin/clicktocall/campaignline/{line.pk}/change/", 302)]
    assert message in response.content.decode()


def test_line_export_of_an_unknown_line_is_404(admin_client):
    assert admin_client.get("/admin/clicktocall/campaignline/999999/export/").status_code == 404


def test_line_export_needs_permission_to_view_attempts(client, line):
    staff = User.objects.create_user("staff", password="pw-for-tests-only", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_campaignline"))
    client.force_login(staff)
    assert client.get(f"/admin/clicktocall/campaignline/{line.pk}/export/").status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_callattempt"))
    staff = User.objects.get(pk=staff.pk)
    client.force_login(staff)
    assert client.get(f"/admin/clicktocall/campaignline/{line.pk}/export/").status_code == 200


def test_anonymous_visitors_are_sent_to_the_admin_login(client, line):
    response = client.get(f"/admin/clicktocall/campaignline/{line.pk}/export/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_admin_action_exports_the_selected_attempts(admin_client, line):
    first, second, third = (attempt(line, at(f"2026-03-0{d}")) for d in (1, 2, 3))
    response = admin_client.post(
        "/admin/clicktocall/callattempt/",
        {"action": "export_attempts_csv", "_selected_action": [first.pk, third.pk]},
    )
    assert response["Content-Disposition"].startswith('attachment; filename="call-attempts-')
    assert [int(row["id"]) for row in read_csv(response)] == [first.pk, third.pk]

    everything = admin_client.post(
        "/admin/clicktocall/callattempt/",
        {"action": "export_attempts_csv", "_selected_action": [first.pk], "select_across": "1"},
    )
    assert [int(row["id"]) for row in read_csv(everything)] == [first.pk, second.pk, third.pk]


def test_the_action_is_listed_with_its_description(admin_client, line):
    attempt(line, at("2026-03-01"))
    page = admin_client.get("/admin/clicktocall/callattempt/").content.decode()
    assert '<option value="export_attempts_csv">Export selected attempts as CSV</option>' in page


def test_the_changelist_never_counts_more_than_a_bounded_number_of_rows(admin_client, line, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "exact_limit", 3)
    for day in range(1, 7):
        attempt(line, at(f"2026-03-0{day}"))
    for query in ({}, {"outcome__exact": "pending"}, {"line__id__exact": line.pk}):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get("/admin/clicktocall/callattempt/", query)
        assert response.status_code == 200
        counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
        assert counts and "LIMIT 4" in counts[0], counts
        shown = response.context["cl"].result_count
        if connection.vendor == "postgresql":  # past the limit: the planner's estimate, no more counting
            assert counts == counts[:1] and shown >= 4 and response.context["cl"].paginator.estimated
            assert f"about {shown} call attempts" in response.content.decode()
        else:  # the embedded SQLite counts exactly
            assert shown == 6


def test_small_results_are_counted_exactly(admin_client, line):
    for day in range(1, 4):
        attempt(line, at(f"2026-03-0{day}"), outcome="error" if day == 2 else "placed")
    response = admin_client.get("/admin/clicktocall/callattempt/", {"outcome__exact": "error"})
    assert response.context["cl"].result_count == 1 and not response.context["cl"].paginator.estimated
    assert "\n1 call attempt\n" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"outcome__exact": "error"},
        {"status__exact": "completed"},
        {"line__id__exact": "LINE"},
        {"created_at__gte": "2026-03-01 00:00:00+00:00", "created_at__lt": "2026-03-02 00:00:00+00:00"},
        {"created_at__year": "2026", "created_at__month": "3"},
    ],
)
def test_every_changelist_filter_reads_an_index(admin_client, line, query):
    if connection.vendor != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    attempt(line, at("2026-03-01"))
    query = {k: (line.pk if v == "LINE" else v) for k, v in query.items()}
    response = admin_client.get("/admin/clicktocall/callattempt/", query)
    assert response.status_code == 200
    page_query = response.context["cl"].queryset[:100]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = page_query.explain()
        cursor.execute("SET LOCAL enable_seqscan = on")
    assert "Seq Scan" not in plan and "Index" in plan, plan


def test_the_date_hierarchy_lists_periods_from_the_first_and_last_rows_only(admin_client, line):
    attempt(line, at("2025-12-30"))
    attempt(line, at("2026-01-15"))
    attempt(line, at("2026-03-02"))
    base = "/admin/clicktocall/callattempt/"
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(base).content.decode()
    assert not [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper()]
    assert "?created_at__year=2025" in page and "?created_at__year=2026" in page
    months = admin_client.get(base, {"created_at__year": "2026"}).content.decode()
    assert all(f"created_at__month={m}" in months for m in (1, 2, 3)) and "created_at__month=4" not in months
    days = admin_client.get(base, {"created_at__year": "2026", "created_at__month": "3"}).content.decode()
    assert "created_at__day=2" in days and "created_at__day=1" not in days and "created_at__day=3" not in days


def test_periods_roll_over_years_and_weeks():
    from datetime import date

    from clicktocall.admin.large_tables import _periods

    assert _periods(date(2025, 11, 15), date(2026, 2, 1), "month") == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert _periods(date(2026, 3, 4), date(2026, 3, 17), "week") == [
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 16),
    ]
    assert _periods(date(2026, 2, 27), date(2026, 3, 1), "day") == [
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
    ]


def test_a_number_search_is_an_exact_match_on_the_phone_column(admin_client, line):
    mine = attempt(line, at("2026-03-01"), name="Ann")
    attempt(line, at("2026-03-02"), phone="+16175550100", name="Bob")
    base = "/admin/clicktocall/callattempt/"
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(base, {"q": "(617) 523-2338"})
    assert [a.pk for a in response.context["cl"].result_list] == [mine.pk]
    searches = [q["sql"] for q in queries if "clicktocall_callattempt" in q["sql"] and "+16175232338" in q["sql"]]
    assert searches and not [sql for sql in searches if "UPPER" in sql or "LIKE" in sql], searches
    by_name = admin_client.get(base, {"q": "bob"})
    assert [a.name for a in by_name.context["cl"].result_list] == ["Bob"]


def test_csv_columns_are_what_staff_see_each_variable_and_each_target(line, targets):
    """Outcome and status as labelled in the admin, the test-call flag, one column per variable
    (the union of the keys), and each target's result and connected time."""
    from clicktocall.models import CallLeg

    first = attempt(line, at("2026-03-01"), outcome="placed", status="completed", variables={"park": "Boston Common"})
    attempt(line, at("2026-03-02"), outcome="throttled", is_test=True, variables={"zip": "=1+1", "n": 3})
    CallLeg.objects.create(
        attempt=first, position=0, target=targets[0], target_name="Sen. A", status="completed", duration=95
    )
    CallLeg.objects.create(attempt=first, position=1, target=targets[1], target_name="Sen. B", status="busy")
    one, two = csv.DictReader(io.StringIO("".join(stream_csv(CallAttempt.objects.all()))))
    assert (one["outcome"], one["call status"], one["test call"]) == ("Placed", "Completed", "no")
    assert (two["outcome"], two["call status"], two["test call"]) == ("Refused: too quickly", "", "yes")
    assert (one["variable: park"], one["variable: zip"], two["variable: zip"], two["variable: n"]) == (
        "Boston Common",
        "",
        "'=1+1",
        "3",
    )
    assert (one["target 1"], one["target 1 result"], one["target 1 duration (s)"]) == ("Sen. A", "Connected", "95")
    assert (one["target 2"], one["target 2 result"], one["target 2 duration (s)"]) == ("Sen. B", "Busy", "")
    assert (two["target 1"], two["target 1 result"]) == ("", "")
