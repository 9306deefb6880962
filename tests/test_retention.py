"""The retention command: anonymize or delete attempts older than N days, in batches."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from clicktocall.models import CallAttempt, CallLeg

pytestmark = pytest.mark.django_db


def attempt(line, days_old: int, **fields) -> CallAttempt:
    values = {
        "line": line,
        "phone": "+16175232338",
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "client_ip": "198.51.100.7",
        "user_agent": "Mozilla/5.0",
        "referrer": "https://www.example.org/petition?email=ada@example.org",
        "submitted": {"phone": "617-523-2338", "zip": "02113"},
        "variables": {"zip": "02113"},
        "outcome": "placed",
        "status": "completed",
        "duration": 95,
    }
    values.update(fields)
    record = CallAttempt.objects.create(**values)
    CallAttempt.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=days_old))
    return record


def run(*args: str) -> str:
    out = StringIO()
    call_command("clicktocall_retention", *args, stdout=out)
    return out.getvalue()


PERSONAL = ["phone", "name", "email", "client_ip", "user_agent", "referrer", "submitted", "variables"]


def personal(record: CallAttempt) -> list:
    record.refresh_from_db()
    return [getattr(record, name) for name in PERSONAL]


def test_anonymize_clears_personal_data_of_old_attempts_only(line):
    old = [attempt(line, 100) for _ in range(5)]
    recent = attempt(line, 10)
    output = run("--days", "90", "--batch-size", "2")
    assert "Anonymized 5 call attempts" in output
    for record in old:
        assert personal(record) == ["", "", "", None, "", "", {}, {}]
        # the figures stay
        assert (record.outcome, record.status, record.duration, record.line_id) == ("placed", "completed", 95, line.pk)
    assert personal(recent)[0:3] == ["+16175232338", "Ada Lovelace", "ada@example.org"]
    assert "Anonymized 0 call attempts" in run("--days", "90")  # nothing left to do


def test_anonymize_is_the_default_and_explicit_flag_works(line):
    record = attempt(line, 40)
    assert "Anonymized 1" in run("--days", "30", "--anonymize")
    assert personal(record)[0] == ""


def test_delete_removes_old_attempts(line):
    for _ in range(3):
        attempt(line, 400)
    keep = attempt(line, 5)
    assert "Deleted 3 call attempts" in run("--days", "365", "--delete", "--batch-size", "2")
    assert list(CallAttempt.objects.values_list("pk", flat=True)) == [keep.pk]


def test_dry_run_changes_nothing(line):
    record = attempt(line, 100)
    assert "Would anonymize 1 call attempts" in run("--days", "90", "--dry-run")
    assert "Would delete 1 call attempts" in run("--days", "90", "--delete", "--dry-run")
    assert personal(record)[0] == "+16175232338" and CallAttempt.objects.count() == 1


@pytest.mark.parametrize("args", [["--days", "-1"], ["--days", "5", "--batch-size", "0"]])
def test_bad_arguments(args):
    with pytest.raises(CommandError):
        run(*args)


def test_anonymize_and_delete_exclude_each_other():
    with pytest.raises(CommandError):
        run("--days", "5", "--anonymize", "--delete")


@pytest.mark.parametrize(
    "outcome,detail",
    [
        ("blocked", "blocklist: the address 198.51.100.7 is blocked"),
        ("error", "Twilio refused the call: HTTP 400, code 21211: The 'To' number +16175232338 is not valid"),
    ],
)
def test_anonymize_clears_error_details_that_name_the_person(line, outcome, detail):
    record = attempt(line, 100, outcome=outcome, error_detail=detail)
    assert "Anonymized 1 call attempts" in run("--days", "90")
    record.refresh_from_db()
    assert record.error_detail == "" and record.outcome == outcome
    assert "Anonymized 0 call attempts" in run("--days", "90")


def test_anonymize_clears_the_provider_call_ids_of_the_call_and_its_legs(line, targets):
    old = attempt(line, 100, provider_call_id="CA" + "1" * 32)
    leg = CallLeg.objects.create(attempt=old, target=targets[0], provider_call_id="CA" + "2" * 32)
    recent = attempt(line, 10, provider_call_id="CA" + "3" * 32)
    assert "Anonymized 1 call attempts" in run("--days", "90")
    old.refresh_from_db()
    leg.refresh_from_db()
    recent.refresh_from_db()
    assert (old.provider_call_id, leg.provider_call_id) == ("", "")
    assert (old.status, leg.target_id) == ("completed", targets[0].pk)  # the figures stay
    assert recent.provider_call_id == "CA" + "3" * 32


def test_webhook_deliveries_older_than_the_period_are_deleted(line):
    from clicktocall.events.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(url="https://crm.example.org/hook", events=["attempt.created"])
    old = WebhookDelivery.objects.create(endpoint=endpoint, event="attempt.created", body='{"phone": "+16175232338"}')
    recent = WebhookDelivery.objects.create(endpoint=endpoint, event="attempt.created", body="{}")
    WebhookDelivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))

    assert "Would delete 1 webhook deliveries" in run("--days", "90", "--dry-run")
    assert WebhookDelivery.objects.count() == 2
    assert "Deleted 1 webhook deliveries" in run("--days", "90")
    assert list(WebhookDelivery.objects.all()) == [recent]
