"""What every /outgoing request leaves behind: exactly one attempt, written before the provider is asked."""

from __future__ import annotations

import pytest

from clicktocall.exceptions import TelephonyError
from clicktocall.models import CallAttempt
from clicktocall.telephony import BaseTelephonyBackend, CallRequest, ProviderCall

from .contract import ERROR, INVALID, LINE, PHONE, PLACED, UNCONFIGURED, VALID, message

pytestmark = pytest.mark.django_db


class RecordFirstBackend(BaseTelephonyBackend):
    """A backend that looks, while it is asked, for the attempt the call belongs to."""

    seen: list[tuple[str, str]] = []

    def place_call(self, call: CallRequest) -> ProviderCall:
        attempt = CallAttempt.objects.get(token=call.attempt_token)
        RecordFirstBackend.seen.append((attempt.outcome, attempt.phone))
        return ProviderCall(sid="CA" + "f" * 32, status="queued")


def test_attempt_is_written_before_the_provider_is_asked(client, line, settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "tests.test_outgoing_records.RecordFirstBackend"
    RecordFirstBackend.seen = []
    r = client.get("/outgoing", VALID)
    assert message(r) == PLACED
    assert RecordFirstBackend.seen == [("pending", PHONE)]
    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.status, attempt.provider_call_id) == ("placed", "queued", "CA" + "f" * 32)


def test_attempt_records_the_request(client, line, outbox):
    r = client.get(
        "/outgoing",
        {**VALID, "name": "Paul Revere", "email": "paul@example.org", "zip": "02113", "data": '{"district": "MA-8"}'},
        HTTP_USER_AGENT="Mozilla/5.0 (test)",
        HTTP_REFERER="https://www.example.org/take-action/",
        REMOTE_ADDR="198.51.100.7",
    )
    assert message(r) == PLACED
    attempt = CallAttempt.objects.get()
    assert attempt.line == line
    assert attempt.phone == PHONE
    assert (attempt.name, attempt.email) == ("Paul Revere", "paul@example.org")
    assert attempt.variables == {"zip": "02113", "district": "MA-8"}
    assert attempt.client_ip == "198.51.100.7"
    assert attempt.user_agent == "Mozilla/5.0 (test)"
    assert attempt.referrer == "https://www.example.org/take-action/"
    assert attempt.submitted["phone"] == "(617) 523-2338"
    assert attempt.provider_call_id == "CAlocmem00000000000000000000000001"
    assert [c.attempt_token for c in outbox] == [attempt.token]


def test_forwarded_for_is_read_only_through_trusted_proxies(client, line, outbox, settings):
    headers = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "192.0.2.66, 203.0.113.9"}
    client.get("/outgoing", VALID, **headers)
    settings.CLICKTOCALL_TRUSTED_PROXIES = 1
    client.get("/outgoing", VALID, **headers)
    assert list(CallAttempt.objects.order_by("pk").values_list("client_ip", flat=True)) == ["10.0.0.2", "203.0.113.9"]


def test_provider_failure_is_recorded_on_the_attempt(client, line, outbox, failures):
    failures.append(TelephonyError("Twilio refused the call: HTTP 400, code 21211: invalid 'To'"))
    r = client.get("/outgoing", VALID)
    assert r.status_code == 400 and message(r) == ERROR
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "error"
    assert attempt.error_detail == "Twilio refused the call: HTTP 400, code 21211: invalid 'To'"
    assert attempt.phone == PHONE and attempt.provider_call_id == ""
    assert outbox == []


def test_backend_bug_is_an_error_not_a_500(client, line, outbox, failures):
    failures.append(RuntimeError("backend bug"))
    r = client.get("/outgoing", VALID)
    assert r.status_code == 400 and message(r) == ERROR
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "error" and attempt.error_detail == "RuntimeError: backend bug"


def test_the_next_request_after_a_failure_is_placed(client, line, outbox, failures):
    failures.append(TelephonyError("timeout"))
    assert message(client.get("/outgoing", VALID)) == ERROR
    assert message(client.get("/outgoing", VALID)) == PLACED
    assert list(CallAttempt.objects.order_by("pk").values_list("outcome", flat=True)) == ["error", "placed"]


def test_unknown_line_leaves_no_attempt(client, line, outbox):
    r = client.get("/outgoing", {"phone": "6175232338", "campaign_line": "2025550143"})
    assert message(r) == UNCONFIGURED
    assert not CallAttempt.objects.exists() and outbox == []


def test_inactive_line_is_recorded(client, line, outbox):
    line.is_active = False
    line.save()
    r = client.get("/outgoing", {**VALID, "name": "Paul"})
    assert r.status_code == 400 and message(r) == UNCONFIGURED
    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.phone, attempt.name) == ("inactive", PHONE, "Paul")
    assert outbox == []


def test_invalid_input_wins_over_an_inactive_line(client, line, outbox):
    line.is_active = False
    line.save()
    r = client.get("/outgoing", {"phone": "12", "campaign_line": LINE})
    assert message(r) == INVALID
    assert CallAttempt.objects.get().outcome == "invalid"


@pytest.mark.parametrize(
    "fields",
    [
        {"campaign_line": LINE},
        {"campaign_line": LINE, "phone": "12"},
        {**VALID, "email": "nope"},
        {**VALID, "data": "[1]"},
        {**VALID, "callback": "alert(1)"},
        {**VALID, "revmsghtml": "javascript:alert(1)"},
    ],
)
def test_each_rejected_request_naming_a_line_leaves_one_attempt(client, line, outbox, fields):
    r = client.get("/outgoing", fields)
    assert message(r) == INVALID
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "invalid" and attempt.error_detail
    assert attempt.submitted == fields
    assert outbox == []


def _refuse_queries(kind: str):
    from django.db import OperationalError

    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(kind):
            raise OperationalError("the database refused the query")
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.django_db(transaction=True)  # no test transaction for the failure to poison
@pytest.mark.parametrize("kind", ["SELECT", "INSERT"])
def test_database_error_is_the_error_message_and_places_no_call(client, line, outbox, kind):
    from django.db import connection

    with connection.execute_wrapper(_refuse_queries(kind)):
        r = client.get("/outgoing", VALID)
    assert r.status_code == 400 and message(r) == ERROR
    assert outbox == []  # without a record there is no call
    assert not CallAttempt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_database_error_while_recording_a_provider_failure_is_no_500(client, line, outbox, failures):
    from django.db import connection

    failures.append(TelephonyError("Twilio unreachable"))
    with connection.execute_wrapper(_refuse_queries("UPDATE")):
        r = client.get("/outgoing", VALID)
    assert message(r) == ERROR
    assert CallAttempt.objects.get().outcome == "pending"  # the record written before the provider was asked
