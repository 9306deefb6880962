"""``clicktocall.rows``: the request path's INSERT writes the row ``save()`` writes."""

from __future__ import annotations

import pytest
from django.db.models.signals import post_save

from clicktocall import blocklist, rows
from clicktocall.models import BlockEntry, CallAttempt

pytestmark = pytest.mark.django_db


def visitor(line, phone="+16175232338") -> CallAttempt:
    return CallAttempt(
        line=line,
        phone=phone,
        name="Ann",
        email="ann@example.org",
        variables={"zip": "02113", "note": "ünïcode"},
        submitted={"phone": "617-523-2338"},
        client_ip="2001:db8::1",
        user_agent="Mozilla/5.0",
        referrer="https://example.org/page",
        outcome=CallAttempt.Outcome.PENDING,
    )


def fields(attempt: CallAttempt) -> dict:
    skip = {"id", "token", "created_at", "updated_at", "phone"}
    return {f.attname: getattr(attempt, f.attname) for f in CallAttempt._meta.concrete_fields if f.name not in skip}


@pytest.mark.parametrize("blocked", [False, True])
def test_an_inserted_attempt_is_the_row_save_writes(line, blocked):
    if blocked:
        BlockEntry.objects.create(kind=BlockEntry.Kind.PHONE, value="+16175232338")
        BlockEntry.objects.create(kind=BlockEntry.Kind.PHONE, value="+16175232339")
    inserted, saved = visitor(line), visitor(line, "+16175232339")
    for attempt in (inserted, saved):
        blocklist.mark_if_blocked(attempt, CallAttempt.Outcome.PENDING)  # a RawSQL value, read back
    assert rows.insert(inserted)
    saved.save()
    assert inserted.pk and not inserted._state.adding and inserted._state.db == "default"
    assert inserted.outcome == ("blocked" if blocked else "pending")
    assert fields(inserted) == fields(saved)  # what each instance holds after its write
    stored = CallAttempt.objects.get(pk=inserted.pk)
    assert fields(stored) == fields(CallAttempt.objects.get(pk=saved.pk))
    assert (stored.token, stored.created_at) == (inserted.token, inserted.created_at)


def test_it_declines_when_a_receiver_listens_to_the_models_saves(line):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_save.connect(receiver, sender=CallAttempt)
    try:
        attempt = visitor(line)
        assert not rows.insert(attempt) and attempt.pk is None
    finally:
        post_save.disconnect(receiver, sender=CallAttempt)
    assert not CallAttempt.objects.exists() and seen == []


def test_an_update_changes_the_row_only_where_its_conditions_hold(line):
    attempt = visitor(line)
    attempt.save()
    values = {"outcome": CallAttempt.Outcome.PLACED, "provider_call_id": "CA1", "status": "queued"}
    assert rows.update(CallAttempt, attempt.pk, values, status="ringing") == 0
    assert CallAttempt.objects.get(pk=attempt.pk).outcome == "pending"
    assert rows.update(CallAttempt, attempt.pk, values, status="") == 1
    stored = CallAttempt.objects.get(pk=attempt.pk)
    assert (stored.outcome, stored.provider_call_id, stored.status) == ("placed", "CA1", "queued")


def test_values_that_quoting_would_have_to_escape_arrive_whole(line):
    """On PostgreSQL the parameters go apart from the SQL (server-side binding): values with
    quotes, backslashes, placeholders and JSON come back as they were sent."""
    from django.db import connection

    attempt = visitor(line)
    attempt.name = "O'Brien \\ %s $1 -- ;"
    attempt.variables = {"quote": 'say "hi"', "dollar": "$$", "percent": "%(x)s"}
    attempt.user_agent = "\\x00'\"\t"
    assert rows.insert(attempt)
    stored = CallAttempt.objects.get(pk=attempt.pk)
    assert (stored.name, stored.variables, stored.user_agent) == (attempt.name, attempt.variables, attempt.user_agent)
    assert fields(stored) == fields(attempt)
    with rows.cursor(connection) as cursor:
        client_side = type(cursor.cursor).__mro__
    if connection.vendor == "postgresql":
        assert not any(kind.__name__ == "ClientCursorMixin" for kind in client_side)


def test_on_postgresql_the_insert_is_planned_once_per_connection(line):
    """With ``prepare_threshold`` (the project's ``DATABASE_PREPARE_THRESHOLD``, 0 by default)
    the request path's INSERT is a prepared statement of the connection after it ran."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    if connection.settings_dict["OPTIONS"].get("prepare_threshold") is None:
        pytest.skip("prepared statements are switched off (DATABASE_PREPARE_THRESHOLD=off)")
    for phone in ("+16175232338", "+16175232339"):
        assert rows.insert(visitor(line, phone))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["INSERT INTO%"])
        prepared = [row[0] for row in cursor.fetchall()]
    assert any(CallAttempt._meta.db_table in statement for statement in prepared), prepared
