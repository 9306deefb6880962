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
(field ``pre_save``, the task's ``pre_save`` receivers; see ``rows``), and the attempt
gets back what ``save()`` would give it. An attempt the ``INSERT`` finds blocked
(``blocklist.mark_if_blocked``) gets no task. ``write()`` returns False, having written
nothing, wherever that is not possible: another database, another task backend, or a
receiver of the attempt's ``pre_save``/``post_save`` or of the task's ``post_save``,
which only ``save()`` would send; the caller then uses a transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connections
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_save, pre_save
from django.tasks.signals import log_task_enqueued, task_enqueued
from django.utils import timezone

from . import rows
from .models import CallAttempt


def possible(using: str) -> bool:
    from django_tasks_db.models import DBTaskResult

    plain = rows.plain(CallAttempt) and not post_save.has_listeners(DBTaskResult)
    return plain and connections[using].vendor == "postgresql"


def write(attempt: CallAttempt, task: Any, using: str) -> bool:
    """Insert the unsaved ``attempt`` and, when it is queued, ``task`` for it, in one statement.

    ``task`` is the placement task (``django.tasks.Task``) whose backend stores tasks in
    ``using``. Returns False, having written nothing, where one statement cannot do it.
    """
    from django_tasks_db.models import DBTaskResult

    if not possible(using):
        return False
    backend = task.get_backend()
    backend.validate_task(task)
    connection = connections[using]
    column = connection.ops.quote_name
    outcome = column(CallAttempt._meta.get_field("outcome").column)

    row = rows.parts(attempt, using)
    job, job_row = _job(task, backend, using)
    if row is None or job_row is None:
        return False
    sql = (
        f"WITH attempt AS ({row.sql(column)}), "
        f"task AS (INSERT INTO {job_row.table} ({', '.join(job_row.columns)}) "
        f"SELECT {', '.join(job_row.values)} FROM attempt WHERE attempt.{outcome} = %s) "
        "SELECT * FROM attempt"
    )
    with rows.cursor(connection) as cursor:
        cursor.execute(sql, (*row.params, *job_row.params, CallAttempt.Outcome.QUEUED.value))
        returned = cursor.fetchone()
    rows.read_back(attempt, row, returned, using)
    if attempt.outcome == CallAttempt.Outcome.QUEUED and _heard(type(backend)):
        heard = DBTaskResult(**{f.attname: getattr(job, f.attname) for f in DBTaskResult._meta.concrete_fields})
        id_slot, time_slot = _slots(job_row, connection)
        heard.id = DBTaskResult._meta.pk.to_python(job_row.params[id_slot])
        heard.enqueued_at = job_row.params[time_slot]
        heard.args_kwargs = {"args": [attempt.pk], "kwargs": {}}
        heard._state.adding, heard._state.db = False, using
        task_enqueued.send(type(backend), task_result=heard.task_result)
    return True


def _job(task: Any, backend: Any, using: str) -> tuple[Any, rows.Insert | None]:
    """The task's row as ``DatabaseBackend.enqueue`` builds it, with a new id and time.

    Its other values are the same for every call of one task: they are built once (the
    row's pre_save receivers run then) and kept, unless a receiver of the row's ``pre_save``
    other than the backend's own is connected, which then runs for each row.
    """
    from django_tasks_db.models import DBTaskResult

    connection = connections[using]
    key = (using, backend.alias, task.module_path, task.priority, task.queue_name, task.run_after)
    kept = _jobs.get(key) if _only_own_receivers() else None
    if kept is None:
        column = connection.ops.quote_name(CallAttempt._meta.pk.column)
        job = DBTaskResult(
            id=backend._get_id(),
            args_kwargs=RawSQL(
                f"jsonb_build_object('args', jsonb_build_array(attempt.{column}), 'kwargs', '{{}}'::jsonb)", ()
            ),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=backend.alias,
        )
        pre_save.send(sender=DBTaskResult, instance=job, raw=False, using=using, update_fields=None)
        job_row = rows.parts(job, using)
        slots = _slots(job_row, connection)
        if slots is None:
            return job, job_row
        kept = _jobs[key] = (job, job_row, slots)
        return job, job_row
    job, job_row, (id_slot, time_slot) = kept
    fields = DBTaskResult._meta
    params = list(job_row.params)
    params[id_slot] = fields.pk.get_db_prep_save(backend._get_id(), connection)
    params[time_slot] = fields.get_field("enqueued_at").get_db_prep_save(timezone.now(), connection)
    return job, rows.Insert(job_row.table, job_row.columns, job_row.values, params, job_row.returning)


def _slots(job_row: rows.Insert | None, connection: Any) -> tuple[int, int] | None:
    """Where the row's id and enqueue time stand among its parameters (None: not as plain values)."""
    if job_row is None:
        return None
    slots, position = {}, 0
    for column, value in zip(job_row.columns, job_row.values, strict=True):
        if value == "%s":
            slots[column] = position
            position += 1
        else:
            position += value.count("%s")
    id_column, time_column = connection.ops.quote_name("id"), connection.ops.quote_name("enqueued_at")
    if id_column not in slots or time_column not in slots:
        return None
    return slots[id_column], slots[time_column]


_jobs: dict[tuple, tuple] = {}


def _only_own_receivers() -> bool:
    """Whether the backend's own receiver (which sets ``run_after``) is all that hears the task row's ``pre_save``."""
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.signal_handlers import set_run_after

    try:
        receivers = pre_save._live_receivers(DBTaskResult)
        receivers = receivers[0] + receivers[1] if isinstance(receivers, tuple) else receivers
        return all(receiver is set_run_after for receiver in receivers)
    except Exception:  # another Django: build each row
        return False


def _heard(sender: type) -> bool:
    """Whether anything hears ``task_enqueued``: a receiver besides Django's own DEBUG line
    about it, or that line's logger (building the task's result for nobody costs)."""
    if logging.getLogger("django.tasks").isEnabledFor(logging.DEBUG):
        return True
    try:
        receivers = task_enqueued._live_receivers(sender)
        receivers = receivers[0] + receivers[1] if isinstance(receivers, tuple) else receivers
        return any(receiver is not log_task_enqueued for receiver in receivers)
    except Exception:  # another Django: send it
        return True
