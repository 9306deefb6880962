"""Queued placement: the request enqueues, a worker places, retries, and never places twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.tasks.backends.base import BaseTaskBackend
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clicktocall import blocklist, placement
from clicktocall.exceptions import TelephonyError
from clicktocall.models import CallAttempt
from clicktocall.placement import place_attempt

from .processes import current_database_url, project_env

# The worker closes connections left in a transaction, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
IMMEDIATE_BACKEND = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
REQUEST = {"phone": "(617) 523-2338", "campaign_line": "8559299898"}
PLACED = {"error": False, "message": "The call's been placed."}


class UnavailableQueue(BaseTaskBackend):
    """A task backend whose store cannot be reached."""

    def enqueue(self, task, args, kwargs):
        raise ConnectionError("queue store unreachable")


@pytest.fixture
def queued(settings):
    settings.CLICKTOCALL_PLACEMENT = "queued"
    settings.CLICKTOCALL_PLACEMENT_BACKOFF = 0
    settings.TASKS = DATABASE_BACKEND
    return settings


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def queued_attempt(line) -> CallAttempt:
    return CallAttempt.objects.create(line=line, phone="+16175232338", outcome=CallAttempt.Outcome.QUEUED)


def test_request_answers_success_once_queued_and_the_worker_places_it(queued, client, line, outbox):
    r = client.post("/outgoing", REQUEST)
    assert r.status_code == 200 and r.json() == PLACED
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "queued" and outbox == []
    task = DBTaskResult.objects.get()
    assert task.task_path == "clicktocall.placement.place_attempt" and task.args_kwargs["args"] == [attempt.pk]

    run_worker()

    attempt.refresh_from_db()
    assert attempt.outcome == "placed" and attempt.provider_call_id.startswith("CAlocmem")
    assert [c.to for c in outbox] == ["+16175232338"]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_the_same_attempts_task_run_twice_places_one_call(queued, line, outbox):
    attempt = queued_attempt(line)
    place_attempt.enqueue(attempt.pk)
    place_attempt.enqueue(attempt.pk)

    run_worker()

    assert [c.attempt_token for c in outbox] == [attempt.token]
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == ["placed", "skipped"]
    assert place_attempt.call(attempt.pk) == "skipped"
    assert len(outbox) == 1
    attempt.refresh_from_db()
    assert attempt.outcome == "placed"


def test_immediate_backend_places_in_the_request_and_a_rerun_places_nothing(settings, client, line, outbox):
    settings.CLICKTOCALL_PLACEMENT = "queued"
    settings.TASKS = IMMEDIATE_BACKEND
    r = client.get("/outgoing", REQUEST)
    assert r.json() == PLACED
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "placed" and len(outbox) == 1
    result = place_attempt.enqueue(attempt.pk)
    assert result.return_value == "skipped" and len(outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_of_one_attempt_place_one_call(queued, line, outbox):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serializes them)")
    results = place_concurrently(queued_attempt(line).pk, 4)
    assert sorted(results) == ["placed", "skipped", "skipped", "skipped"]
    assert len(outbox) == 1


def worker_process():
    """Run ``manage.py db_worker --batch`` in a process of its own, on the test's PostgreSQL database."""
    import subprocess
    import sys
    from pathlib import Path

    env = project_env(
        DATABASE_URL=current_database_url(),
        DJANGO_TASKS_BACKEND="database",
        CLICKTOCALL_TELEPHONY_BACKEND="console",
    )
    return subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--interval", "0"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def place_concurrently(attempt_id: int, workers: int) -> list[str]:
    """Run ``place_attempt`` for one attempt in ``workers`` threads at once; what each returned."""
    start = threading.Barrier(workers)
    results: list[str] = []

    def worker():
        start.wait()
        try:
            results.append(place_attempt.call(attempt_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_transient_errors_are_retried_until_the_call_is_placed(settings, line, outbox, failures):
    settings.CLICKTOCALL_PLACEMENT_BACKOFF = 0
    settings.CLICKTOCALL_PLACEMENT_RETRIES = 3
    settings.TASKS = IMMEDIATE_BACKEND
    failures.extend([TelephonyError("HTTP 503", transient=True), TelephonyError("HTTP 429", transient=True)])
    attempt = queued_attempt(line)

    place_attempt.enqueue(attempt.pk)

    attempt.refresh_from_db()
    assert attempt.outcome == "placed" and len(outbox) == 1
    assert "try 2 failed" in attempt.error_detail and "HTTP 429" in attempt.error_detail


def test_a_retry_waits_for_its_backoff_in_the_queue(queued, line, outbox, failures):
    queued.CLICKTOCALL_PLACEMENT_BACKOFF = 30
    failures.append(TelephonyError("Twilio unreachable", transient=True))
    attempt = queued_attempt(line)
    place_attempt.enqueue(attempt.pk)
    before = timezone.now()

    run_worker()

    attempt.refresh_from_db()
    assert attempt.outcome == "queued" and outbox == []
    assert attempt.error_detail.startswith("try 1 failed, retrying in 30s: Twilio unreachable")
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["args"] == [attempt.pk, 2]
    assert before + timedelta(seconds=29) <= retry.run_after <= timezone.now() + timedelta(seconds=31)
    assert not DBTaskResult.objects.ready().exists()  # the worker would not take it yet

    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()
    attempt.refresh_from_db()
    assert attempt.outcome == "placed" and len(outbox) == 1


def test_backoff_doubles_from_the_configured_base(settings):
    settings.CLICKTOCALL_PLACEMENT_BACKOFF = 2
    assert [placement.backoff(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert placement.backoff(30) == placement.MAX_DELAY


def test_a_placement_that_finally_fails_shows_in_the_admin(settings, admin_client, line, outbox, failures):
    settings.CLICKTOCALL_PLACEMENT_BACKOFF = 0
    settings.CLICKTOCALL_PLACEMENT_RETRIES = 2
    settings.TASKS = IMMEDIATE_BACKEND
    failures.extend([TelephonyError(f"Twilio refused the call: HTTP 503 (try {n})", transient=True) for n in (1, 2, 3)])
    attempt = queued_attempt(line)

    place_attempt.enqueue(attempt.pk)

    attempt.refresh_from_db()
    assert attempt.outcome == "error" and outbox == [] and failures == []
    assert attempt.error_detail == "Twilio refused the call: HTTP 503 (try 3)"
    listing = admin_client.get("/admin/clicktocall/callattempt/", {"outcome__exact": "error"})
    assert listing.status_code == 200
    assert f"/admin/clicktocall/callattempt/{attempt.pk}/change/" in listing.content.decode()
    page = admin_client.get(f"/admin/clicktocall/callattempt/{attempt.pk}/change/").content.decode()
    assert "Failed: provider or system error" in page and "HTTP 503 (try 3)" in page


def test_a_permanent_error_is_not_retried(queued, line, outbox, failures):
    failures.extend([TelephonyError("HTTP 400: invalid To number", transient=False), TelephonyError("unused")])
    attempt = queued_attempt(line)
    place_attempt.enqueue(attempt.pk)

    run_worker()

    attempt.refresh_from_db()
    assert attempt.outcome == "error" and attempt.error_detail == "HTTP 400: invalid To number"
    assert len(failures) == 1 and DBTaskResult.objects.count() == 1


def test_an_unreachable_queue_answers_the_error_and_keeps_the_record(settings, client, line, outbox):
    settings.CLICKTOCALL_PLACEMENT = "queued"
    settings.TASKS = {"default": {"BACKEND": f"{__name__}.UnavailableQueue"}}
    r = client.post("/outgoing", REQUEST)
    assert r.status_code == 400 and r.json() == {"error": True, "message": "Sorry, there was an error."}
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "error" and "queue store unreachable" in attempt.error_detail
    assert outbox == []


def test_direct_mode_stays_the_default(client, line, outbox):
    r = client.post("/outgoing", REQUEST)
    assert r.json() == PLACED and len(outbox) == 1
    assert CallAttempt.objects.get().outcome == "placed" and not DBTaskResult.objects.exists()


def test_checks_reject_an_unknown_mode_and_warn_about_immediate_tasks_in_production(settings):
    from clicktocall.checks import check_placement

    settings.CLICKTOCALL_PLACEMENT = "sometimes"
    assert [e.id for e in check_placement()] == ["clicktocall.E050"]
    settings.CLICKTOCALL_PLACEMENT = "queued"
    settings.TASKS = IMMEDIATE_BACKEND
    settings.DEBUG = False
    assert [e.id for e in check_placement()] == ["clicktocall.W050"]
    settings.TASKS = DATABASE_BACKEND
    assert check_placement() == []


def test_a_retry_does_not_call_again_when_the_provider_reported_the_call_meanwhile(queued, line, outbox, failures):
    queued.CLICKTOCALL_PLACEMENT_BACKOFF = 30
    failures.append(TelephonyError("Twilio unreachable: ReadTimeout", transient=True))
    attempt = queued_attempt(line)
    place_attempt.enqueue(attempt.pk)
    run_worker()
    # Twilio had created the call after all: its status callback reached the attempt.
    CallAttempt.objects.filter(pk=attempt.pk).update(provider_call_id="CA" + "f" * 32, status="ringing")
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())

    run_worker()

    attempt.refresh_from_db()
    assert attempt.outcome == "placed" and attempt.provider_call_id == "CA" + "f" * 32 and outbox == []
    assert DBTaskResult.objects.get(args_kwargs__args=[attempt.pk, 2]).return_value == "already placed"


def test_the_worker_command_places_queued_calls_in_its_own_process(queued, client, line):
    """``manage.py db_worker`` as deployed: another process, configured from the environment."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a database server it can share with the test")
    assert client.post("/outgoing", REQUEST).json() == PLACED
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "queued"

    done = worker_process()

    assert done.returncode == 0, done.stderr
    attempt.refresh_from_db()
    assert attempt.outcome == "placed" and attempt.provider_call_id.startswith("CA")
    assert "placement attempt=" in done.stderr and "phone=+1617***2338 outcome=placed" in done.stderr
    assert "6175232338" not in done.stderr


def test_a_number_blocked_while_its_call_waits_in_the_queue_is_not_called(queued, client, line, outbox):
    assert client.post("/outgoing", REQUEST).json() == PLACED
    # Meanwhile the person opts out during another campaign's call (or staff block the number).
    entry = blocklist.add_opt_out("+16175232338", note="pressed 9")

    run_worker()

    attempt = CallAttempt.objects.get()
    assert outbox == [] and attempt.outcome == "blocked" and attempt.provider_call_id == ""
    assert "blocklist" in attempt.error_detail
    entry.refresh_from_db()
    assert entry.hit_count == 1


def test_a_line_switched_off_while_calls_wait_in_the_queue_places_none_of_them(queued, client, line, outbox):
    assert client.post("/outgoing", REQUEST).json() == PLACED
    line.is_active = False  # staff stop the campaign, e.g. during a flood
    line.save()

    run_worker()

    attempt = CallAttempt.objects.get()
    assert outbox == [] and attempt.outcome == "inactive" and "switched off" in attempt.error_detail


def test_a_task_that_cannot_be_stored_leaves_the_attempt_recorded_as_failed(queued, client, line, outbox, monkeypatch):
    """The attempt and its task share a transaction: when the task's insert fails, the attempt is recorded again.

    (A receiver of the task's ``post_save`` makes PostgreSQL use the transaction too, instead of
    one statement: ``tests/test_together.py`` fails that statement.)"""
    from django.db.models.signals import post_save
    from django_tasks_db.backend import DatabaseBackend

    def store_then_fail(self, task, args, kwargs):
        DBTaskResult.objects.create(task_path="x", args_kwargs={}, priority=0, queue_name="default", backend_name="x")
        raise ConnectionError("the task table is full")

    def saved(**kwargs):
        pass

    monkeypatch.setattr(DatabaseBackend, "enqueue", store_then_fail)
    post_save.connect(saved, sender=DBTaskResult)
    try:
        r = client.post("/outgoing", REQUEST, HTTP_ACCEPT="application/json")
    finally:
        post_save.disconnect(saved, sender=DBTaskResult)
    assert r.json()["message"] == "Sorry, there was an error."
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "error" and "the task table is full" in attempt.error_detail
    assert DBTaskResult.objects.count() == 0 and outbox == []
