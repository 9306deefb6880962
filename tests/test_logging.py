"""Operator logs: one line per attempt with its outcome, masked numbers, no secrets."""

from __future__ import annotations

import io
import logging

import pytest

from clicktocall.exceptions import TelephonyError
from clicktocall.logs import MaskingFilter, format_fields, mask_number, scrub
from clicktocall.models import CallAttempt
from clicktocall.placement import place_attempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_output():
    """What the project's configured console handler writes (with its filters)."""
    handler = next(h for h in logging.getLogger("clicktocall").handlers if isinstance(h, logging.StreamHandler))
    assert any(isinstance(f, MaskingFilter) for f in handler.filters)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.parametrize(
    "number, masked",
    [
        ("+16175232338", "+1617***2338"),
        ("+442079460958", "+4420***0958"),
        ("6175232338", "6175***2338"),
        ("+3312345678", "+3312***5678"),
        ("+12345", "+*****"),
        ("", ""),
    ],
)
def test_mask_number(number, masked):
    assert mask_number(number) == masked


@pytest.mark.parametrize(
    "value, written",
    [
        ("invalid", "invalid"),
        ("", "-"),
        (None, "-"),
        (400, "400"),
        ("two words", '"two words"'),
        ("tab\there", '"tab\there"'),
        ("no-break\u00a0space", '"no-break\u00a0space"'),
        ("em\u2003space", '"em\u2003space"'),
        ("unit\x1fseparator", '"unit\x1fseparator"'),
        ('say "hi"', "\"say 'hi'\""),
        ('a"b', '"a\'b"'),
    ],
)
def test_a_field_with_white_space_or_a_quote_is_quoted(value, written):
    assert format_fields({"detail": value}) == f"detail={written}"


def test_scrub_masks_numbers_but_not_ids_times_or_callbacks(settings):
    text = "call +16175232338 from 18559299898 sid CA0123456789abcdef0123456789abcdef cb jQuery_1700000000000 at 12:00"
    assert scrub(text) == (
        "call +1617***2338 from 1855***9898 sid CA0123456789abcdef0123456789abcdef cb jQuery_1700000000000 at 12:00"
    )
    settings.CLICKTOCALL_LOG_FULL_NUMBERS = True
    assert scrub(text) == text


def test_one_line_per_request_with_its_outcome(client, line, outbox, caplog):
    caplog.set_level(logging.INFO, logger="clicktocall.attempts")
    client.get("/outgoing", {"phone": "617 523 2338", "campaign_line": "8559299898"})
    client.get("/outgoing", {"phone": "617 523 2338", "campaign_line": "8559299898", "email": "not-an-address"})
    client.get("/outgoing", {"phone": "617 523 2338", "campaign_line": "8005550123"})
    placed, invalid = CallAttempt.objects.order_by("pk")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("clicktocall") and r.levelno >= logging.INFO]
    assert lines == [
        f"request attempt={placed.pk} line=+1855***9898 phone=+1617***2338 outcome=placed answer=200 detail=-",
        f'request attempt={invalid.pk} line=+1855***9898 phone=+1617***2338 outcome=invalid answer=400 detail="email: '
        + invalid.error_detail.removeprefix("email: ")
        + '"',
        "request attempt=- line=+1800***0123 phone=+1617***2338 outcome=unconfigured answer=400",
    ]


def test_the_log_handler_masks_numbers_and_removes_secrets_everywhere(settings, client, line, failures, log_output):
    settings.TWILIO_AUTH_TOKEN = "s3cret-auth-token-value"
    failures.append(TelephonyError("HTTP 401 for s3cret-auth-token-value calling +16175232338"))
    client.post("/outgoing", {"phone": "+1 617 523 2338", "campaign_line": "+18559299898"})
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "console"
    client.post("/outgoing", {"phone": "+1 617 523 2338", "campaign_line": "+18559299898"})
    output = log_output.getvalue()
    assert "provider error: HTTP 401 for [secret] calling +1617***2338" in output
    assert "outcome=error answer=400" in output and "outcome=placed answer=200" in output
    assert "console telephony: would call +1617***2338 from +1855***9898" in output
    assert "6175232338" not in output and "s3cret-auth-token-value" not in output


def test_full_numbers_when_configured(settings, client, line, outbox, log_output):
    settings.CLICKTOCALL_LOG_FULL_NUMBERS = True
    client.post("/outgoing", {"phone": "+1 617 523 2338", "campaign_line": "+18559299898"})
    assert "line=+18559299898 phone=+16175232338 outcome=placed" in log_output.getvalue()


def test_a_traceback_is_masked_too(log_output):
    try:
        raise ValueError("cannot dial +16175232338")
    except ValueError:
        logging.getLogger("clicktocall.test").exception("failed")
    output = log_output.getvalue()
    assert "ValueError: cannot dial +1617***2338" in output and "6175232338" not in output


def test_the_worker_logs_one_line_per_placement(settings, line, outbox, failures, caplog):
    settings.CLICKTOCALL_PLACEMENT_BACKOFF = 0
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    failures.append(TelephonyError("HTTP 503", transient=True))
    attempt = CallAttempt.objects.create(line=line, phone="+16175232338", outcome="queued")
    caplog.set_level(logging.INFO, logger="clicktocall.attempts")
    place_attempt.enqueue(attempt.pk)
    attempt.refresh_from_db()
    lines = [r.getMessage() for r in caplog.records if r.name == "clicktocall.attempts"]
    assert lines == [
        f"placement attempt={attempt.pk} line=+1855***9898 phone=+1617***2338 outcome=placed "
        f'provider_call={attempt.provider_call_id} tries=2 detail="try 1 failed, retrying in 0s: HTTP 503"'
    ]


def test_the_console_transcript_of_a_call_keeps_the_visitor_out_of_the_log(settings, client, line, log_output):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "console"
    line.script = "Hello {{ name }}, your neighbours near {{ zip }} count on you."
    line.save()
    client.post(
        "/outgoing",
        {"phone": "+1 617 523 2338", "campaign_line": "+18559299898", "name": "Ada Lovelace", "zip": "02113"},
    )
    output = log_output.getvalue()
    assert "console telephony: would call +1617***2338" in output
    assert "Ada Lovelace" not in output and "02113" not in output


@pytest.mark.django_db
def test_a_refused_request_is_one_line_of_the_request_log(client, line, log_output):
    """Not also Django's "Bad Request" warning: a refusal is an answer of the contract."""
    response = client.get("/outgoing", {"phone": "not a number", "campaign_line": line.phone_number})
    assert response.status_code == 400
    written = log_output.getvalue().splitlines()
    assert len(written) == 1 and "clicktocall.attempts request" in written[0] and "outcome=invalid" in written[0]
