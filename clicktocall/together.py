"""A queued attempt and its placement task, written by one SQL statement on PostgreSQL.

``placement.record_and_enqueue`` must store an accepted attempt and its task together:
never an attempt without its task. In one transaction that is four round trips to the
database (``BEGIN``, two ``INSERT``s, ``COMMIT``); on PostgreSQL one statement does it,
atomic by itself, with the task's row taken from the attempt's by a data-modifying
``WITH``::

    WITH attempt AS (INSERT INTO callattempt (...) VALUES (...) RETURNING ...),
         task AS (INSERT INTO dbtaskresult (...)
                  SELECT ..., jsonb_build_object('args', jsonb_build_array(attempt.id), ...)
                  FROM attempt WHERE attempt.outcome = 'queued')
    SELECT * FROM attempt

Both rows are built as ``Model.save()`` and ``DatabaseBackend.enqueue()`` build them
(field ``pre_save``, the task's ``pre_save`` receivers, Django's SQL compiler), and the
attempt gets back what ``save()`` would give it. An attempt the ``INSERT`` finds blocked
(``blocklist.mark_if_blocked``) gets no task. ``write()`` returns False, having written
nothing, wherever that is not possible: another database, another task backend, or a
receiver of the attempt's ``pre_save``/``post_save`` or of the task's ``post_save``,
which only ``save()`` would send; the caller then uses a transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import JSONField
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery
from django.tasks.signals import task_enqueued

from .models import CallAttempt


def _insert(instance: Any, using: str, returning: list | None = None) -> tuple[str, tuple, Any]:
    """The ``INSERT`` that ``save()`` would run for a new ``instance``: (sql, params, compiler)."""
    meta = instance._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    query = InsertQuery(type(instance))
    query.insert_values(fields, [instance])
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = returning
    statements = compiler.as_sql()
    if len(statements) != 1:
        raise ValueError("one INSERT statement expected")
    sql, params = statements[0]
    return sql, tuple(params), compiler


def _returning_fields(attempt: CallAttempt) -> list:
    """The fields ``save()`` reads back: the database's own (the id, defaults) and those set to expressions."""
    meta = attempt._meta
    fields = list(meta.db_returning_fields)
    for field in meta.local_concrete_fields:
        if field.generated or field is meta.auto_field or field in fields:
            continue
        if hasattr(field.pre_save(attempt, add=True), "resolve_expression"):
            fields.append(field)
    return fields


def possible(using: str) -> bool:
    connection = connections[using]
    return (
        connection.vendor == "postgresql"
        and not pre_save.has_listeners(CallAttempt)
        and not post_save.has_listeners(CallAttempt)
    )


def write(attempt: CallAttempt, task: Any, using: str) -> bool:
    """Insert the unsaved ``attempt`` and, when it is queued, ``task`` for it, in one statement.

    ``task`` is the placement task (``django.tasks.Task``) whose backend stores tasks in
    ``using``. Returns False, having written nothing, where one statement cannot do it.
    """
    from django_tasks_db.models import DBTaskResult

    if not possible(using) or post_save.has_listeners(DBTaskResult):
        return False
    backend = task.get_backend()
    backend.validate_task(task)
    connection = connections[using]
    qn = connection.ops.quote_name
    pk = qn(CallAttempt._meta.pk.column)
    outcome = qn(CallAttempt._meta.get_field("outcome").column)

    returning = _returning_fields(attempt)
    attempt_sql, attempt_params, compiler = _insert(attempt, using, returning)

    job = DBTaskResult(
        id=backend._get_id(),
        args_kwargs=RawSQL(f"jsonb_build_object('args', jsonb_build_array(attempt.{pk}), 'kwargs', '{{}}'::jsonb)", ()),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after,
        backend_name=backend.alias,
    )
    pre_save.send(sender=DBTaskResult, instance=job, raw=False, using=using, update_fields=None)
    job_sql, job_params, _ = _insert(job, using)
    head, values = job_sql.split(" VALUES (", 1)
    if not values.endswith(")") or not isinstance(DBTaskResult._meta.get_field("args_kwargs"), JSONField):
        return False
    job_sql = f"{head} SELECT {values[:-1]} FROM attempt WHERE attempt.{outcome} = %s"

    sql = f"WITH attempt AS ({attempt_sql}), task AS ({job_sql}) SELECT * FROM attempt"
    with connection.cursor() as cursor:
        cursor.execute(sql, (*attempt_params, *job_params, CallAttempt.Outcome.QUEUED.value))
        row = cursor.fetchone()
    columns = [field.get_col(CallAttempt._meta.db_table) for field in returning]
    converters = compiler.get_converters(columns)
    if converters:
        row = next(iter(compiler.apply_converters([row], converters)))
    attempt._assign_returned_values(row, returning)
    attempt._state.adding, attempt._state.db = False, using
    if attempt.outcome == CallAttempt.Outcome.QUEUED:
        job.args_kwargs = {"args": [attempt.pk], "kwargs": {}}
        job._state.adding, job._state.db = False, using
        task_enqueued.send(type(backend), task_result=job.task_result)
    return True
