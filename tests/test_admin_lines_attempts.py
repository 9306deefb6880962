"""The admin for lines (editable, searchable, filterable) and attempts (read-only)."""

from __future__ import annotations

import pytest

from clicktocall.models import CallAttempt, CampaignLine

from .conftest import line_form
from .contract import LINE, PHONE, VALID

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client):
    return admin_client


@pytest.mark.parametrize("written", ["855-929-9898", "(855) 929-9898", "+1 855 929 9898", "+18559299898"])
def test_line_added_in_any_format_is_stored_in_e164(staff, written):
    r = staff.post(
        "/admin/clicktocall/campaignline/add/",
        line_form(phone_number=written, name="Save the park"),
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert CampaignLine.objects.get().phone_number == LINE


def test_same_line_in_another_format_is_a_duplicate(staff, line):
    r = staff.post(
        "/admin/clicktocall/campaignline/add/",
        line_form(phone_number="855.929.9898", name="Again"),
    )
    assert r.status_code == 200 and "already exists" in r.content.decode()
    assert CampaignLine.objects.count() == 1


def test_invalid_line_number_is_refused(staff):
    r = staff.post("/admin/clicktocall/campaignline/add/", {"phone_number": "12", "name": "x", "redirect_hosts": ""})
    assert r.status_code == 200 and "Enter a valid phone number." in r.content.decode()
    assert not CampaignLine.objects.exists()


def test_line_edit_switches_it_off(staff, line, client, outbox):
    r = staff.post(
        f"/admin/clicktocall/campaignline/{line.pk}/change/",
        line_form(phone_number=line.phone_number, name="Paused", status="paused", redirect_hosts="www.example.org"),
    )
    assert r.status_code == 302
    line.refresh_from_db()
    assert (line.is_active, line.name, line.redirect_host_list) == (False, "Paused", ["www.example.org"])
    assert client.get("/outgoing", VALID).json()["message"] == "This phone number is not configured."


def test_lines_search_and_filter(staff, line):
    CampaignLine.objects.create(phone_number="+12025550143", name="Other", is_active=False)
    page = staff.get("/admin/clicktocall/campaignline/", {"q": "Test campaign"}).content.decode()
    assert "+18559299898" in page and "+12025550143" not in page
    page = staff.get("/admin/clicktocall/campaignline/", {"status": "paused"}).content.decode()
    assert "+12025550143" in page and "+18559299898" not in page


def test_attempts_are_read_only(staff, line, client, outbox):
    client.get("/outgoing", {**VALID, "name": "Paul Revere", "email": "paul@example.org"})
    attempt = CallAttempt.objects.get()
    assert staff.get("/admin/clicktocall/callattempt/add/").status_code == 403
    page = staff.get(f"/admin/clicktocall/callattempt/{attempt.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    title = f"{attempt.phone} → +1 855-929-9898 (Placed)"  # the line by its number, not its database id
    assert str(attempt) == title and f"<h2>{title}</h2>" in page.content.decode()
    r = staff.post(f"/admin/clicktocall/callattempt/{attempt.pk}/change/", {"name": "Changed"})
    assert r.status_code == 403
    attempt.refresh_from_db()
    assert attempt.name == "Paul Revere"


@pytest.mark.parametrize(
    "query,found",
    [
        ({"q": "617.523.2338"}, True),  # any human format finds the E.164 phone
        ({"q": PHONE}, True),
        ({"q": "Revere"}, True),
        ({"q": "paul@example.org"}, True),
        ({"q": "nobody"}, False),
        ({"outcome__exact": "placed"}, True),
        ({"outcome__exact": "invalid"}, False),
        ({"line__id__exact": "LINE"}, True),
        ({"created_at__year": "2000"}, False),
        ({"created_at__year": "YEAR"}, True),
    ],
)
def test_attempts_search_and_filters(staff, line, client, outbox, query, found):
    client.get("/outgoing", {**VALID, "name": "Paul Revere", "email": "paul@example.org"})
    attempt = CallAttempt.objects.get()
    values = {"LINE": str(line.pk), "YEAR": str(attempt.created_at.year)}
    query = {k: values.get(v, v) for k, v in query.items()}
    r = staff.get("/admin/clicktocall/callattempt/", query)
    assert r.status_code == 200
    assert (f"/admin/clicktocall/callattempt/{attempt.pk}/change/" in r.content.decode()) is found


def test_redirect_hosts_typed_with_commas_are_each_allowed(staff, line, client):
    r = staff.post(
        f"/admin/clicktocall/campaignline/{line.pk}/change/",
        line_form(phone_number=line.phone_number, redirect_hosts="WWW.Example.org, .example.net\nthanks.example.com"),
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    line.refresh_from_db()
    assert line.redirect_hosts == "www.example.org\n.example.net\nthanks.example.com"
    assert all(line.allows_redirect_to(h) for h in ("www.example.org", "a.example.net", "thanks.example.com"))
    form = {**VALID, "revmsghtml": "https://www.example.org/thanks"}
    r = client.post("/outgoing", form, HTTP_ORIGIN="https://campaign.example.com")
    assert r.status_code == 302 and r["Location"] == "https://www.example.org/thanks"


@pytest.mark.parametrize(
    "hosts, message",
    [("www.example.org\n*", "open redirect"), ("https://www.example.org/", "is not a host name")],
)
def test_redirect_hosts_that_are_not_host_names_are_refused(staff, line, hosts, message):
    r = staff.post(
        f"/admin/clicktocall/campaignline/{line.pk}/change/",
        line_form(phone_number=line.phone_number, redirect_hosts=hosts),
    )
    assert r.status_code == 200 and message in r.content.decode()
    line.refresh_from_db()
    assert line.redirect_hosts == ""
