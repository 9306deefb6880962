"""The ``INSERT`` of a new row, and an ``UPDATE`` by primary key, on the request path,
without the ORM's compiler.

``Model.save()`` compiles its SQL anew for every row, through expressions and compilers:
for an attempt's two dozen columns that is most of what recording a request costs in
Python. ``insert()`` writes the same row with the same values: each field's
``pre_save`` and ``get_db_prep_save``, its database default where the value is
``DatabaseDefault``, a ``RawSQL`` value as SQL, and the fields ``save()`` reads back
(``RETURNING``, with the backend's converters). It sends no ``pre_save``/``post_save``
signal, so it declines (returns False, having written nothing) when a receiver listens
to them for the model, when a value is another kind of expression, or when the
database cannot return columns from an ``INSERT``; the caller then uses ``save()``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model, Value
from django.db.models.expressions import DatabaseDefault, RawSQL
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery


@dataclass
class Insert:
    """The parts of one row's ``INSERT``: columns, their SQL values, parameters, fields read back."""

    table: str
    columns: list[str]
    values: list[str]
    params: list[Any]
    returning: list[Field]

    def sql(self, column) -> str:
        """``INSERT … VALUES … RETURNING …``, ``column`` quoting a name."""
        returning = ", ".join(column(field.column) for field in self.returning)
        return f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({', '.join(self.values)})" + (
            f" RETURNING {returning}" if returning else ""
        )


def parts(instance: Model, using: str) -> Insert | None:
    """How ``save()`` would insert the new ``instance``, or None where this module does not know."""
    connection = connections[using]
    if not connection.features.can_return_columns_from_insert:
        return None
    table, written, kept_returning = _plan(type(instance), connection)
    returning = kept_returning
    columns, values, params = [], [], []
    for field, column in written:
        value = field.pre_save(instance, add=True)
        if isinstance(value, DatabaseDefault):
            value = field.db_default
            if isinstance(value, Value):
                value = value.value
            elif hasattr(value, "resolve_expression"):
                return None
        if isinstance(value, RawSQL):
            values.append(f"({value.sql})")
            params.extend(value.params)
            if field not in returning:
                returning = [*returning, field]
        elif hasattr(value, "resolve_expression"):
            return None
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(value, connection))
        columns.append(column)
    return Insert(table, columns, values, params, list(returning))


def _plan(model: type[Model], connection: Any) -> tuple[str, list[tuple[Field, str]], list[Field]]:
    """The model's table, the fields an INSERT writes with their quoted columns, and the
    fields it reads back: the same for every row, made once per model and connection."""
    key = (connection.alias, model)  # one per database, not per thread's connection object
    plan = _plans.get(key)
    if plan is None:
        meta, column = model._meta, connection.ops.quote_name
        written = [
            (field, column(field.column))
            for field in meta.local_concrete_fields
            if not field.generated and field is not meta.auto_field
        ]
        plan = _plans[key] = (column(meta.db_table), written, list(meta.db_returning_fields))
    return plan


_plans: dict[tuple, tuple] = {}


def read_back(instance: Model, insert: Insert, row: tuple, using: str) -> None:
    """Give the new ``instance`` what ``save()`` gives it: the values read back, its saved state."""
    row = convert(type(instance), insert.returning, row, using)
    instance._assign_returned_values(row, insert.returning)
    instance._state.adding, instance._state.db = False, using


def convert(model: type[Model], fields: list[Field], row: tuple, using: str) -> tuple:
    """A row read back from the database, in Python values (the backend's converters)."""
    key = (using, model, tuple(fields))  # the kept compiler's connection lends only its operations
    found = _converters.get(key)
    if found is None:
        compiler = InsertQuery(model).get_compiler(using=using)
        columns = [field.get_col(model._meta.db_table) for field in fields]
        found = _converters[key] = (compiler, compiler.get_converters(columns))
    compiler, converters = found
    if not converters:
        return row
    return next(iter(compiler.apply_converters([row], converters)))


_converters: dict[tuple, tuple] = {}


def plain(model: type[Model]) -> bool:
    """Whether nothing listens to the model's ``pre_save``/``post_save`` signals."""
    return not pre_save.has_listeners(model) and not post_save.has_listeners(model)


def insert(instance: Model, using: str | None = None) -> bool:
    """Insert the new ``instance`` as ``save()`` would; False, with nothing written, where it cannot."""
    model = type(instance)
    using = using or router.db_for_write(model, instance=instance)
    if not plain(model):
        return False
    insert = parts(instance, using)
    if insert is None:
        return False
    connection = connections[using]
    with cursor(connection) as cursor_:
        cursor_.execute(insert.sql(connection.ops.quote_name), insert.params)
        row = cursor_.fetchone()
    read_back(instance, insert, row, using)
    return True


def update(model: type[Model], pk: object, values: dict[str, object], **where: object) -> int:
    """``model.objects.filter(pk=pk, **where).update(**values)`` (which sends no signal either) in one
    statement whose SQL is made once per set of fields; returns the rows changed."""
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    key = (connection.alias, model, tuple(values), tuple(where))
    sql = _updates.get(key)
    if sql is None:
        column = connection.ops.quote_name
        sets = ", ".join(f"{column(meta.get_field(name).column)} = %s" for name in values)
        conditions = " AND ".join(f"{column(meta.get_field(name).column)} = %s" for name in (meta.pk.name, *where))
        sql = _updates[key] = f"UPDATE {column(meta.db_table)} SET {sets} WHERE {conditions}"
    params = [meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()]
    conditions = ((meta.pk.name, pk), *where.items())
    params += [meta.get_field(name).get_db_prep_value(value, connection) for name, value in conditions]
    with cursor(connection) as cursor_:
        cursor_.execute(sql, params)
        return cursor_.rowcount


_updates: dict[tuple, str] = {}


def cursor(connection: Any) -> Any:
    """A cursor of ``connection`` that, on PostgreSQL, sends the parameters apart from the SQL.

    Django's psycopg cursors bind them into the SQL text on the client (unless
    ``OPTIONS["server_side_binding"]``), quoting each value: for a row of two dozen
    columns that costs more than the rest of the statement. The SQL here is made by
    this module, with plain ``%s`` placeholders, so the server can bind them. Whether
    the statement is also prepared follows the connection's ``prepare_threshold``
    (``OPTIONS``: the project sets it from ``DATABASE_PREPARE_THRESHOLD``; Django's own
    default is never, for connection poolers).
    """
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get("server_side_binding"):
        return connection.cursor()
    try:
        from django.db.backends.postgresql.base import ServerBindingCursor
    except ImportError:  # psycopg2: client-side binding only
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
        connection.validate_thread_sharing()
        if connection.queries_logged:  # DEBUG, or a test counting queries: log the SQL as it ran
            return _logged_cursor_class()(raw, connection)
        return connection.make_cursor(raw)


@functools.cache
def _logged_cursor_class() -> type:
    """Django's PostgreSQL debug cursor, logging a statement with its parameters in place
    (``ops.compose_sql``), as it logs its own client-side bound statements."""
    from django.db.backends.postgresql.base import CursorDebugWrapper
    from django.db.backends.utils import CursorWrapper

    class ComposedDebugWrapper(CursorDebugWrapper):
        def execute(self, sql, params=None):
            with self.debug_sql(self.db.ops.compose_sql(sql, params or ())):
                return CursorWrapper.execute(self, sql, params)

    return ComposedDebugWrapper
