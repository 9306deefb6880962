"""The figures copied for the results page: kept up to date by the webhooks, filled by the migration."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.db.models import Avg, Count, Exists, Max, OuterRef, Q, Sum
from django.test import Client

from clicktocall import lifecycle
from clicktocall.denormalized import backfill
from clicktocall.models import CallAttempt, CallLeg, CampaignLine
from clicktocall.stats import line_stats
from clicktocall.targets.custom import resolved
from tests.stats_data import Leg, attempt, history
from tests.test_webhooks import signed_post, url

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def call(line, targets):
    return CallAttempt.objects.create(
        line=line, phone="+16175232338", outcome="placed", status="in-progress", provider_call_id="CA" + "a" * 32
    )


def dial(call, position, dial_status, **extra):
    params = {"DialCallStatus": dial_status, "CallStatus": "in-progress", **extra}
    return signed_post(Client(), url("dial", call, position=position), params)


def connected(call) -> int:
    return CallAttempt.objects.get(pk=call.pk).connected_legs


def test_a_leg_copies_its_attempts_line_and_request_time(call):
    assert signed_post(Client(), url("gather", call), {"Digits": "1"}).status_code == 200
    leg = CallLeg.objects.get()
    assert (leg.line_id, leg.requested_at) == (call.line_id, call.created_at)


@pytest.mark.parametrize("dial_status", ["busy", "no-answer", "failed", "canceled"])
def test_a_leg_that_did_not_connect_is_not_counted(call, dial_status):
    signed_post(Client(), url("gather", call), {"Digits": "1"})
    assert dial(call, 0, dial_status).status_code == 200
    assert CallLeg.objects.get(position=0).status == dial_status
    assert connected(call) == 0


def test_each_connected_leg_is_counted_once_however_often_reported(call):
    signed_post(Client(), url("gather", call), {"Digits": "1"})
    for _ in range(3):  # the provider retries its callback
        assert dial(call, 0, "completed", DialCallDuration="30").status_code == 200
    assert connected(call) == 1
    dial(call, 1, "completed", DialCallDuration="12")
    dial(call, 1, "completed", DialCallDuration="12")
    assert connected(call) == 2
    assert list(CallLeg.objects.order_by("position").values_list("status", flat=True)) == ["completed", "completed"]


def test_a_corrected_report_recounts(call, targets):
    leg = lifecycle.start_leg(call, 0, resolved(targets[0]))
    lifecycle.end_leg(call, 0, "completed", duration=5)
    assert connected(call) == 1
    lifecycle.end_leg(call, 0, "failed")
    assert connected(call) == 0
    leg.refresh_from_db()
    assert leg.status == "failed"


def test_a_report_for_a_leg_never_started_changes_nothing(call):
    assert lifecycle.end_leg(call, 0, "completed") is None
    assert connected(call) == 0


def spoil(line) -> None:
    """Leave the copied fields as rows written before they existed would have them."""
    other = CampaignLine.objects.create(phone_number="+18005550199", name="Other")
    CallLeg.objects.update(line=other, requested_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    CallAttempt.objects.update(connected_legs=0)


def copied_fields() -> tuple[list, list]:
    legs = list(CallLeg.objects.order_by("pk").values_list("line_id", "requested_at"))
    attempts = list(CallAttempt.objects.order_by("pk").values_list("connected_legs", flat=True))
    return legs, attempts


@pytest.mark.parametrize("batch", [1, 3, 10_000])
def test_backfill_fills_every_row_whatever_the_batch(line, targets, batch):
    history(line, targets, days=4, today=TODAY)
    expected = copied_fields()
    legs, counts = expected
    assert max(counts) == 2 and min(counts) == 0 and len(legs) > 20
    assert all(requested > dt.datetime(2026, 1, 1, tzinfo=dt.UTC) for _, requested in legs)
    spoil(line)
    assert copied_fields() != expected
    backfill(CallAttempt, CallLeg, batch=batch)
    assert copied_fields() == expected
    backfill(CallAttempt, CallLeg, batch=batch)  # running it again changes nothing
    assert copied_fields() == expected


def test_backfill_of_an_empty_table(db):
    backfill(CallAttempt, CallLeg)
    assert not CallAttempt.objects.exists()


def test_the_migration_runs_the_backfill(line, targets):
    history(line, targets, days=2, today=TODAY)
    expected = copied_fields()
    spoil(line)
    migration = importlib.import_module("clicktocall.migrations.0002_stats_denormalized")
    migration.fill(apps, None)
    assert copied_fields() == expected


def reference_stats(line, low, high) -> dict:
    """The figures computed from the legs themselves, joined to their attempts."""
    attempts = CallAttempt.objects.filter(line=line, created_at__gte=low, created_at__lt=high)
    completed = CallLeg.objects.filter(attempt=OuterRef("pk"), status=CallLeg.Status.COMPLETED)
    legs = CallLeg.objects.filter(attempt__line=line, attempt__created_at__gte=low, attempt__created_at__lt=high)
    done = Q(status=CallLeg.Status.COMPLETED)
    per_target = (
        legs.order_by()
        .values("target")
        .annotate(
            name=Max("target_name"),
            n=Count("pk"),
            connected=Count("pk", filter=done),
            total=Sum("duration", filter=done),
            average=Avg("duration", filter=done),
        )
    )
    return {
        "connected": attempts.filter(Exists(completed)).count(),
        "requests": attempts.count(),
        "targets": sorted(
            (row["name"], row["n"], row["connected"], row["total"] or 0, round(float(row["average"] or 0), 6))
            for row in per_target
        ),
    }


def test_the_page_shows_what_the_legs_say(line, targets, client):
    history(line, targets, days=10, today=TODAY)
    # Attempts right at the ends of the range, one connected and one not.
    low = dt.datetime.combine(TODAY - dt.timedelta(days=4), dt.time.min, tzinfo=dt.UTC)
    high = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    attempt(line, low, answered=True, legs=(Leg(targets[0], duration=7),))
    attempt(line, high - dt.timedelta(microseconds=1), answered=True, legs=(Leg(targets[1], "busy"),))
    attempt(line, low - dt.timedelta(microseconds=1), answered=True, legs=(Leg(targets[1], duration=9),))
    stats = line_stats(line, TODAY - dt.timedelta(days=4), TODAY)
    expected = reference_stats(line, low, high)
    assert stats.connected == expected["connected"] > 0
    assert stats.requests == expected["requests"]
    shown = sorted(
        (row.name, row.legs, row.connected, row.total_duration, round(row.average_duration or 0, 6))
        for row in stats.targets
    )
    assert shown == expected["targets"]


@pytest.mark.django_db(transaction=True)
def test_migrating_fills_the_rows_written_before():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("clicktocall", "0001_initial")])
    old = executor.loader.project_state([("clicktocall", "0001_initial")]).apps
    line = old.get_model("clicktocall", "CampaignLine").objects.create(phone_number="+18559299898")
    target = old.get_model("clicktocall", "Target").objects.create(line=line, name="A", phone_number="+12025550100")
    Attempt, Leg = old.get_model("clicktocall", "CallAttempt"), old.get_model("clicktocall", "CallLeg")
    calls = [Attempt.objects.create(line=line, token=f"t{i}", outcome="placed") for i in range(3)]
    for position, status in enumerate(["busy", "completed", "completed"]):
        Leg.objects.create(attempt=calls[0], target=target, position=position, status=status)
    Leg.objects.create(attempt=calls[1], target=target, position=0, status="no-answer")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    try:
        executor.migrate(executor.loader.graph.leaf_nodes())
    finally:  # whatever happens, leave the schema as the other tests expect it
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
    counts = dict(CallAttempt.objects.values_list("token", "connected_legs"))
    assert counts == {"t0": 2, "t1": 0, "t2": 0}
    for leg in CallLeg.objects.select_related("attempt"):
        assert (leg.line_id, leg.requested_at) == (leg.attempt.line_id, leg.attempt.created_at)
    assert CallLeg.objects.count() == 4
