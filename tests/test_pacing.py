"""Calls placed at the provider account's pace: a shared schedule, a full queue refused, late calls not placed."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clicktocall import pacing
from clicktocall.models import CallAttempt
from clicktocall.placement import place_attempt

from .contract import ERROR, PLACED, message
from .processes import ROOT, current_database_url, project_env, shared_cache_env
from .twilio_standin import TwilioStandIn

REQUEST = {"campaign_line": "8559299898"}


@pytest.fixture
def paced(settings):
    settings.CLICKTOCALL_PROVIDER_CPS = 1
    settings.CLICKTOCALL_MAX_QUEUE_WAIT = 2.5
    return settings


@pytest.fixture
def queued(paced):
    paced.CLICKTOCALL_PLACEMENT = "queued"
    paced.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    return paced


@pytest.mark.django_db
def test_turns_are_spaced_by_the_interval_and_refused_beyond_the_longest_wait(paced):
    step = pacing.interval()
    assert 1 < step <= 1.05  # a little wider than 1 / CPS
    waits = [pacing.take_turn("test", longest=2.5) for _ in range(4)]
    assert [turn.taken for turn in waits] == [True, True, True, False]
    for n, turn in enumerate(waits[:3]):
        assert n * step - 0.2 <= turn.wait <= n * step
    assert waits[3].wait == pytest.approx(3 * step, abs=0.2) and waits[3].retry_after(2.5) == 1
    assert pacing.expected_wait("test") == pytest.approx(3 * step, abs=0.2)  # the refused turn took nothing


@pytest.mark.django_db
def test_no_pacing_when_the_rate_is_zero(settings):
    settings.CLICKTOCALL_PROVIDER_CPS = 0
    assert all(pacing.take_turn("test", longest=0.1).wait == 0 for _ in range(5))


@pytest.mark.django_db
def test_a_request_beyond_the_maximum_wait_is_refused_and_recorded(queued, client, line, outbox):
    answers = [client.post("/outgoing", {**REQUEST, "phone": f"617-523-23{n:02d}"}) for n in range(4)]
    assert [message(r) for r in answers] == [PLACED, PLACED, PLACED, ERROR]
    assert answers[3].status_code == 400 and int(answers[3]["Retry-After"]) >= 1
    busy = CallAttempt.objects.get(outcome=CallAttempt.Outcome.BUSY)
    assert busy.phone == "+16175232303" and busy.error_detail.startswith("busy: the calls ahead take")
    assert CallAttempt.objects.filter(outcome=CallAttempt.Outcome.QUEUED).count() == 3


@pytest.mark.django_db
def test_direct_placement_waits_a_little_for_its_turn_then_refuses(paced, client, line, outbox, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(pacing.time, "sleep", slept.append)
    paced.CLICKTOCALL_MAX_QUEUE_WAIT = 1.5
    answers = [message(client.post("/outgoing", {**REQUEST, "phone": f"617-523-23{n:02d}"})) for n in range(3)]
    assert answers == [PLACED, PLACED, ERROR] and len(outbox) == 2
    assert len(slept) == 1 and 0.8 < slept[0] <= pacing.interval()  # the second call waited for its turn
    assert CallAttempt.objects.filter(outcome=CallAttempt.Outcome.BUSY).count() == 1


def test_a_call_is_given_up_a_little_after_the_maximum_wait(settings):
    settings.CLICKTOCALL_MAX_QUEUE_WAIT = 120
    assert pacing.expires_after() == 132  # a tenth more
    settings.CLICKTOCALL_MAX_QUEUE_WAIT = 2.5
    assert pacing.expires_after() == 7.5  # at least 5 s more
    settings.CLICKTOCALL_MAX_QUEUE_WAIT = 0
    assert pacing.expires_after() is None


@pytest.mark.django_db(transaction=True)
def test_a_queued_call_whose_wait_has_passed_is_not_placed(queued, line, outbox):
    late = CallAttempt.objects.create(line=line, phone="+16175232338", outcome=CallAttempt.Outcome.QUEUED)
    CallAttempt.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(seconds=8))
    fresh = CallAttempt.objects.create(line=line, phone="+16175232339", outcome=CallAttempt.Outcome.QUEUED)
    place_attempt.enqueue(late.pk)
    place_attempt.enqueue(fresh.pk)
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    late.refresh_from_db()
    fresh.refresh_from_db()
    assert late.outcome == CallAttempt.Outcome.EXPIRED and "waited 8 s" in late.error_detail
    assert fresh.outcome == CallAttempt.Outcome.PLACED and fresh.placed_at is not None
    assert [call.to for call in outbox] == ["+16175232339"]


@pytest.mark.django_db
def test_the_providers_queue_time_is_recorded(settings, client, line):
    standin = TwilioStandIn("AC" + "0" * 32, "test-auth-token").start()
    try:
        settings.CLICKTOCALL_TELEPHONY_BACKEND = "twilio"
        settings.TWILIO_API_BASE_URL = standin.base_url
        standin.queue_time = "1500"
        assert message(client.post("/outgoing", {**REQUEST, "phone": "617-523-2338"})) == PLACED
    finally:
        standin.stop()
    assert CallAttempt.objects.get().provider_queue_time == 1500


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_share_the_pace(queued, line, tmp_path):
    """Two db_worker processes place 10 queued calls at 5 a second: never faster, whichever places them."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker processes need the test's PostgreSQL database")
    cps, calls = 5, 10
    queued.CLICKTOCALL_PROVIDER_CPS = cps
    queued.CLICKTOCALL_MAX_QUEUE_WAIT = 60
    sid, token = "AC" + "5" * 32, "pacing-test-token"
    standin = TwilioStandIn(sid, token, calls_per_second=cps).start()
    attempts = [
        CallAttempt.objects.create(line=line, phone=f"+1617523{2300 + n}", outcome=CallAttempt.Outcome.QUEUED)
        for n in range(calls)
    ]
    for attempt in attempts:
        place_attempt.enqueue(attempt.pk)
    env = project_env(
        DATABASE_URL=current_database_url(),
        **(shared_cache_env() or {}),
        DJANGO_DEBUG="1",
        DJANGO_TASKS_BACKEND="database",
        CLICKTOCALL_PLACEMENT="queued",
        CLICKTOCALL_PROVIDER_CPS=str(cps),
        CLICKTOCALL_TELEPHONY_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=sid,
        TWILIO_AUTH_TOKEN=token,
        TWILIO_API_BASE_URL=standin.base_url,
        CLICKTOCALL_PUBLIC_URL="https://calls.example.org",
        CLICKTOCALL_LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "manage.py", "db_worker", "--interval", "0.05", "--no-startup-delay"]
    with open(tmp_path / "workers.log", "w") as log:
        workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while CallAttempt.objects.filter(outcome__in=["queued", "pending"]).exists():
            assert time.monotonic() < deadline, (tmp_path / "workers.log").read_text()[-2000:]
            assert all(worker.poll() is None for worker in workers), (tmp_path / "workers.log").read_text()[-2000:]
            time.sleep(0.1)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        standin.stop()
    arrivals = sorted(created.at for created in standin.created)
    assert CallAttempt.objects.filter(outcome="placed").count() == calls and len(arrivals) == calls
    assert standin.refused == []  # the provider never had to refuse a call for going too fast
    # Never more than ``cps`` calls within one second (each arrival jitters by some milliseconds).
    spans = [arrivals[n + cps] - arrivals[n] for n in range(calls - cps)]
    assert min(spans) > 1.0, spans
    placed_by = {worker for task in DBTaskResult.objects.all() for worker in task.worker_ids}
    assert len(placed_by) == 2, "one worker placed every call"


@pytest.mark.django_db
def test_the_admin_shows_the_queue_per_line_and_overall_and_warns_near_the_maximum(paced, admin_client, line):
    other = type(line).objects.create(phone_number="+18559299899", name="Other campaign")
    paced.CLICKTOCALL_MAX_QUEUE_WAIT = 9
    for n in range(6):
        CallAttempt.objects.create(line=line, phone=f"+1617523230{n}", outcome=CallAttempt.Outcome.QUEUED)
    CallAttempt.objects.create(line=other, phone="+16175232310", outcome=CallAttempt.Outcome.QUEUED)
    CallAttempt.objects.create(line=other, phone="+16175232311", outcome="placed", placed_at=timezone.now())
    CallAttempt.objects.create(
        line=other, phone="+16175232312", outcome="placed", placed_at=timezone.now() - timedelta(minutes=5)
    )
    figures = pacing.queue_figures()
    assert [(row.line, row.waiting, row.placed_last_minute) for row in figures.rows] == [(other, 1, 1), (line, 6, 0)]
    assert figures.overall.waiting == 7 and figures.overall.placed_last_minute == 1
    assert figures.overall.wait == pytest.approx(7 * pacing.interval()) and figures.warning  # 7.35 s of 9

    page = admin_client.get("/admin/clicktocall/campaignline/queue/")
    html = page.content.decode()
    assert page.status_code == 200 and "approaches the maximum of 9 s" in html
    assert "Other campaign" in html and "Test campaign" in html
    assert (
        "/admin/clicktocall/campaignline/queue/"
        in admin_client.get("/admin/clicktocall/campaignline/").content.decode()
    )

    paced.CLICKTOCALL_MAX_QUEUE_WAIT = 60
    assert "approaches the maximum" not in admin_client.get("/admin/clicktocall/campaignline/queue/").content.decode()


@pytest.mark.django_db
def test_the_queue_page_is_for_staff_only(client, line):
    response = client.get("/admin/clicktocall/campaignline/queue/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_a_request_refused_as_busy_spends_no_limit(queued, limits, client, line, outbox):
    """The turn is taken with the limits; refused, the request gives back what it took."""
    queued.CLICKTOCALL_MAX_QUEUE_WAIT = 0.5
    first = client.post("/outgoing", {**REQUEST, "phone": "617-523-2300"}, REMOTE_ADDR="198.51.100.30")
    assert message(first) == PLACED
    answers = [
        message(client.post("/outgoing", {**REQUEST, "phone": "617-523-2301"}, REMOTE_ADDR="198.51.100.30"))
        for _ in range(8)  # more than the address's 5 a minute, and the same number again and again
    ]
    assert answers == [ERROR] * 8  # busy every time: never "calling too quickly"
    assert CallAttempt.objects.filter(outcome=CallAttempt.Outcome.BUSY).count() == 8
