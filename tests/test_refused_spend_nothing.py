"""A refused request spends no limit and still leaves its one row."""

from __future__ import annotations

import json
import socket

import pytest
from django.db import DatabaseError, connection

from clicktocall.exceptions import TelephonyError
from clicktocall.models import CallAttempt

from .contract import ERROR, INVALID, PLACED, THROTTLED, VALID, message
from .test_placement import DATABASE_BACKEND, UnavailableQueue, run_worker

pytestmark = pytest.mark.django_db

SURROGATE = "\ud800"


@pytest.mark.parametrize(
    "how",
    ["query-data", "json-name", "json-extra-key", "json-extra-value", "json-data-value"],
)
def test_text_that_cannot_be_stored_is_bad_input_and_spends_nothing(client, line, outbox, limits, how):
    if how == "query-data":
        r = client.get("/outgoing", {**VALID, "data": '{"a": "\\ud800"}'})
    else:
        body = dict(VALID)
        if how == "json-name":
            body["name"] = SURROGATE
        elif how == "json-extra-key":
            body["x" + SURROGATE] = "1"
        elif how == "json-extra-value":
            body["zip"] = "0211" + SURROGATE
        else:
            body["data"] = {"k": [SURROGATE]}
        raw = json.dumps(body)  # escapes the surrogate as \ud800, as a browser's JSON.stringify does
        r = client.generic("POST", "/outgoing", raw, content_type="application/json")
    assert r.status_code == 400 and message(r) == INVALID
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "invalid"
    assert SURROGATE not in json.dumps(attempt.submitted, ensure_ascii=False)
    # Nothing was spent: the same number asks again at once and is called.
    assert message(client.get("/outgoing", VALID)) == PLACED
    assert len(outbox) == 1


@pytest.fixture
def tight(limits):
    """Every limit lets exactly one request through: anything spent shows at once."""
    limits.CLICKTOCALL_IP_RATE = "1/m"
    limits.CLICKTOCALL_PHONE_RATE = "1/h"
    limits.CLICKTOCALL_DAILY_CAP = 1
    return limits


def _refuse_inserts(execute, sql, params, many, context):
    if sql.lstrip().upper().startswith("INSERT") and "clicktocall_callattempt" in sql:
        raise DatabaseError("the database refused the insert")
    return execute(sql, params, many, context)


@pytest.mark.django_db(transaction=True)  # the failed insert would spoil the test's own transaction
def test_a_request_whose_attempt_cannot_be_stored_gives_every_limit_back(client, line, outbox, tight):
    with connection.execute_wrapper(_refuse_inserts):
        r = client.get("/outgoing", VALID)
    assert message(r) == ERROR and outbox == [] and not CallAttempt.objects.exists()
    # Client rate, cooldown, number rate and daily cap: all given back.
    assert message(client.get("/outgoing", VALID)) == PLACED
    assert len(outbox) == 1


def test_a_call_not_placed_for_a_reason_of_ours_gives_every_limit_back(client, line, outbox, failures, tight):
    failures.append(RuntimeError("backend bug"))
    assert message(client.get("/outgoing", VALID)) == ERROR
    assert message(client.get("/outgoing", VALID)) == PLACED
    assert list(CallAttempt.objects.order_by("pk").values_list("outcome", flat=True)) == ["error", "placed"]


def test_a_queue_that_cannot_be_written_gives_every_limit_back(client, line, outbox, tight):
    tight.CLICKTOCALL_PLACEMENT = "queued"
    tight.TASKS = {"default": {"BACKEND": f"{UnavailableQueue.__module__}.UnavailableQueue"}}
    assert message(client.get("/outgoing", VALID)) == ERROR
    # Not "calling too quickly": nothing was spent by the first try.
    assert message(client.get("/outgoing", VALID)) == ERROR
    assert list(CallAttempt.objects.values_list("outcome", flat=True)) == ["error", "error"]


@pytest.mark.django_db(transaction=True)  # the task worker closes the database connection, as it does when deployed
def test_a_queued_call_not_placed_because_the_line_was_switched_off_gives_its_limits_back(client, line, outbox, tight):
    tight.CLICKTOCALL_PLACEMENT = "queued"
    tight.CLICKTOCALL_PLACEMENT_BACKOFF = 0
    tight.TASKS = DATABASE_BACKEND
    assert message(client.get("/outgoing", VALID)) == PLACED
    line.is_active = False
    line.save()
    run_worker()
    line.is_active = True
    line.save()
    assert message(client.get("/outgoing", VALID)) == PLACED
    run_worker()
    assert list(CallAttempt.objects.order_by("pk").values_list("outcome", flat=True)) == ["inactive", "placed"]
    assert len(outbox) == 1


def test_a_provider_refusal_gives_back_the_number_limits_not_the_client_rate(client, line, outbox, failures, tight):
    failures.append(TelephonyError("Twilio refused the call: HTTP 400, code 21211"))
    assert message(client.get("/outgoing", VALID)) == ERROR
    # The same client is still held to its rate ...
    assert message(client.get("/outgoing", VALID)) == THROTTLED
    # ... while the number, the line's cap and the cooldown are free for the person's next try.
    assert message(client.get("/outgoing", VALID, REMOTE_ADDR="198.51.100.9")) == PLACED
    assert len(outbox) == 1


def test_the_cache_down_refuses_with_a_row_and_no_call(client, line, outbox, limits, settings):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        },
    }
    r = client.get("/outgoing", VALID)
    assert r.status_code == 400 and message(r) == ERROR
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "error" and "limits unavailable" in attempt.error_detail
    assert outbox == []
    # Bad input is still the format error, with its row.
    assert message(client.get("/outgoing", {**VALID, "email": "not an address"})) == INVALID
    assert CallAttempt.objects.count() == 2
