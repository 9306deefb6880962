"""What one request, and one address in an hour, can make the database store."""

from __future__ import annotations

import json

import pytest

from clicktocall.models import CallAttempt

from .contract import INVALID, PLACED, VALID, message

pytestmark = pytest.mark.django_db

ROW_MAX = 24 * 1024  # bytes of one attempt's values, whatever the request (SECURITY.md)
MINIMAL_ROW_MAX = 512  # bytes of an attempt past the address's hourly share of refused requests
FAT_HEADERS = {"HTTP_USER_AGENT": "u" * 20_000, "HTTP_REFERER": "https://example.org/" + "r" * 20_000}


def stored_bytes(attempt: CallAttempt) -> int:
    """The size of the attempt's values as stored, before any compression by the database."""
    row = CallAttempt.objects.filter(pk=attempt.pk).values().get()
    return sum(len(json.dumps(v) if isinstance(v, dict) else str(v).encode()) for v in row.values() if v is not None)


def fat(valid: bool) -> dict[str, str]:
    """A request with every parameter as large as the contract lets it be (``valid``), or larger."""
    params = {**VALID, "name": "n" * (255 if valid else 100_000), "email": "e" * 64 + "@" + "d" * 60 + ".org"}
    params["data"] = json.dumps({f"d{i}": "x" * 90 for i in range(10 if valid else 1000)})
    params.update({f"extra{i:02d}": "v" * 1000 for i in range(6 if valid else 50)})
    params["revmsghtml"] = "https://example.org/" + "p" * 2000
    return params


@pytest.mark.parametrize("valid", [True, False], ids=["accepted", "refused"])
def test_one_request_stores_a_bounded_row_and_no_second_copy(client, line, outbox, valid):
    r = client.post("/outgoing", fat(valid), HTTP_ACCEPT="application/json", **FAT_HEADERS)
    assert message(r) == (PLACED if valid else INVALID)
    attempt = CallAttempt.objects.get()
    assert stored_bytes(attempt) <= ROW_MAX, stored_bytes(attempt)
    # What is kept as a variable, or in a column of its own, is not kept again among the raw parameters.
    assert not set(attempt.variables) & set(attempt.submitted)
    if valid:
        assert attempt.variables and attempt.name and attempt.email
        assert not {"data", "name", "email"} & set(attempt.submitted)


def test_an_address_past_its_hourly_share_of_refusals_stores_minimal_rows(client, line, outbox, limits):
    limits.CLICKTOCALL_REFUSED_RECORDS_PER_HOUR = 3
    flood = {**fat(valid=True), "email": "not an address"}
    del flood["revmsghtml"]  # answered in JSON
    for _ in range(6):
        r = client.post("/outgoing", flood, REMOTE_ADDR="198.51.100.7", **FAT_HEADERS)
        assert message(r) == INVALID  # the contract's answer, every time
    r = client.post("/outgoing", flood, REMOTE_ADDR="203.0.113.5", **FAT_HEADERS)
    assert message(r) == INVALID

    rows = list(CallAttempt.objects.order_by("pk"))
    assert len(rows) == 7 and {row.outcome for row in rows} == {"invalid"}  # one row per request
    full, minimal, other = rows[:3], rows[3:6], rows[6]
    assert all(row.variables and row.submitted and row.user_agent for row in full + [other])
    for row in minimal:
        assert (row.variables, row.submitted, row.user_agent, row.referrer, row.name) == ({}, {}, "", "", "")
        assert (row.client_ip, row.phone, row.line_id) == ("198.51.100.7", "+16175232338", line.pk)
        assert row.error_detail.startswith("details not kept") and "email" in row.error_detail
        assert stored_bytes(row) <= MINIMAL_ROW_MAX, stored_bytes(row)
    # An accepted request is not affected.
    assert message(client.get("/outgoing", VALID, REMOTE_ADDR="198.51.100.7")) == PLACED
    assert CallAttempt.objects.latest("pk").submitted


@pytest.mark.parametrize("value", [-1, "many"])
def test_the_hourly_share_must_be_a_whole_number(settings, value):
    from clicktocall.checks import check_limits

    settings.CLICKTOCALL_REFUSED_RECORDS_PER_HOUR = value
    assert "clicktocall.E103" in [e.id for e in check_limits()]
