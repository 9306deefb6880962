"""A queued attempt and its task written by one statement on PostgreSQL (``clicktocall.together``)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult, get_date_max

from clicktocall import blocklist, lines, together
from clicktocall.models import BlockEntry, CallAttempt
from clicktocall.placement import place_attempt

from .contract import LINE

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
REQUEST = {"phone": "617-523-2338", "campaign_line": "8559299898", "name": "Ann", "zip": "02113"}


@pytest.fixture(autouse=True)
def _postgres():
    if connection.vendor != "postgresql":
        pytest.skip("one statement writes both rows on PostgreSQL")


@pytest.fixture
def queued(settings):
    settings.CLICKTOCALL_PLACEMENT = "queued"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def new_attempt(line, phone="+16175232338") -> CallAttempt:
    attempt = CallAttempt(line=line, phone=phone, name="Ann", variables={"zip": "02113"}, outcome="queued")
    blocklist.mark_if_blocked(attempt, CallAttempt.Outcome.QUEUED)
    return attempt


def test_an_accepted_request_is_one_statement(queued, client, line, outbox):
    lines.find(LINE)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/outgoing/", REQUEST)
    assert response.status_code == 200 and response.json()["error"] is False
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1 and statements[0].startswith("WITH attempt AS (INSERT"), statements
    attempt = CallAttempt.objects.get()
    job = DBTaskResult.objects.get()
    assert attempt.outcome == "queued" and job.args_kwargs == {"args": [attempt.pk], "kwargs": {}}
    assert job.task_path == "clicktocall.placement.place_attempt" and job.status == "READY"


def test_the_rows_are_those_save_and_enqueue_write(queued, line):
    written = new_attempt(line)
    assert together.write(written, place_attempt, "default")
    saved = new_attempt(line, "+16175232339")
    saved.save()
    place_attempt.enqueue(saved.pk)
    assert written.pk and written.outcome == "queued" and not written._state.adding
    stored = CallAttempt.objects.get(pk=written.pk)
    assert {f.attname: getattr(written, f.attname) for f in CallAttempt._meta.concrete_fields} == {
        f.attname: getattr(stored, f.attname) for f in CallAttempt._meta.concrete_fields
    }
    ours, theirs = (DBTaskResult.objects.get(args_kwargs__args=[pk]) for pk in (written.pk, saved.pk))
    skip = {"id", "args_kwargs", "enqueued_at"}
    fields = [f.attname for f in DBTaskResult._meta.concrete_fields if f.attname not in skip]
    assert {f: getattr(ours, f) for f in fields} == {f: getattr(theirs, f) for f in fields}
    assert ours.run_after == get_date_max()  # set by the backend's own pre_save receiver


def test_a_blocked_number_is_recorded_without_a_task(queued, line):
    BlockEntry.objects.create(kind=BlockEntry.Kind.PHONE, value="+16175232338")
    attempt = new_attempt(line)
    assert together.write(attempt, place_attempt, "default")
    assert attempt.outcome == "blocked" and CallAttempt.objects.get().outcome == "blocked"
    assert not DBTaskResult.objects.exists()


def test_a_receiver_of_the_attempts_save_gets_the_transaction_instead(queued, client, line, outbox):
    seen: list[int] = []

    def receiver(sender, instance, created, **kwargs):
        seen.append(instance.pk)

    post_save.connect(receiver, sender=CallAttempt)
    try:
        assert not together.write(new_attempt(line), place_attempt, "default")
        assert not CallAttempt.objects.exists()  # nothing written
        response = client.post("/outgoing/", REQUEST)
    finally:
        post_save.disconnect(receiver, sender=CallAttempt)
    assert response.json()["error"] is False
    assert seen == [CallAttempt.objects.get().pk] and DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_when_the_task_cannot_be_stored_the_attempt_is_recorded_as_failed(queued, client, line, outbox):
    """A trigger makes the task's INSERT fail inside the statement: nothing of it stays, and the
    attempt is recorded again, failed, with its limits given back."""
    table = connection.ops.quote_name(DBTaskResult._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION ctc_refuse_task() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'the task table is full'; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            f"CREATE TRIGGER ctc_refuse_task BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION ctc_refuse_task()"
        )
    try:
        lines.find(LINE)
        response = client.post("/outgoing/", REQUEST, HTTP_ACCEPT="application/json")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER ctc_refuse_task ON {table}")
            cursor.execute("DROP FUNCTION ctc_refuse_task()")
    assert response.json() == {"error": True, "message": "Sorry, there was an error."}
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "error" and "the task table is full" in attempt.error_detail
    assert not DBTaskResult.objects.exists() and outbox == []


def test_a_receiver_of_task_enqueued_hears_the_task(queued, line):
    from django.tasks.signals import task_enqueued

    heard = []

    def receiver(sender, task_result, **kwargs):
        heard.append((task_result.task.module_path, task_result.args, task_result.status))

    task_enqueued.connect(receiver)
    try:
        attempt = new_attempt(line)
        assert together.write(attempt, place_attempt, "default")
    finally:
        task_enqueued.disconnect(receiver)
    assert heard == [("clicktocall.placement.place_attempt", [attempt.pk], "READY")]


def test_each_task_row_has_its_own_id_and_time(queued, line):
    first, second = new_attempt(line), new_attempt(line, "+16175232339")
    assert together.write(first, place_attempt, "default") and together.write(second, place_attempt, "default")
    jobs = [DBTaskResult.objects.get(args_kwargs__args=[attempt.pk]) for attempt in (first, second)]
    assert jobs[0].id != jobs[1].id and jobs[0].enqueued_at < jobs[1].enqueued_at
    assert jobs[0].run_after == jobs[1].run_after == get_date_max()


def test_another_pre_save_receiver_of_the_task_row_runs_for_each_row(queued, line):
    """The task row's fixed values are kept after the first row, unless a receiver besides the
    backend's own may change them: then each row is built, and the receiver runs, anew."""
    from django.db.models.signals import pre_save

    assert together.write(new_attempt(line), place_attempt, "default")  # the fixed values are kept

    def note(sender, instance, **kwargs):
        instance.traceback = "seen by a receiver"

    pre_save.connect(note, sender=DBTaskResult)
    try:
        second = new_attempt(line, "+16175232339")
        assert together.write(second, place_attempt, "default")
    finally:
        pre_save.disconnect(note, sender=DBTaskResult)
    assert DBTaskResult.objects.get(args_kwargs__args=[second.pk]).traceback == "seen by a receiver"
