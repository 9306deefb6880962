"""Call attempts as CSV, streamed: flat in memory however many rows there are.

``stream_csv`` reads the queryset in chunks (``iterator(chunk_size=…)``, a server-side
cursor on PostgreSQL) as plain tuples and yields one CSV line at a time;
``csv_response`` wraps it in a ``StreamingHttpResponse``. Free text that the visitor
typed is guarded against spreadsheet formula injection.

The columns: the fixed ones (``COLUMNS``; outcome and call status as the labels staff
see in the admin, and whether it was a test call), then one column per variable (the
union of the keys of the exported attempts, ``variable: key``), then for each target
position the target called, its result and the connected time (``target 1``,
``target 1 result``, ``target 1 duration (s)``…), read per chunk of attempts.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import batched
from typing import Any

from django.db import connections
from django.db.models import Func, Max, QuerySet, TextField
from django.http import HttpResponseBase, StreamingHttpResponse
from django.utils import timezone

from .models import CallAttempt, CallLeg

CHUNK_SIZE = 2000

# (CSV header, field path); the order of the columns.
COLUMNS: list[tuple[str, str]] = [
    ("id", "pk"),
    ("requested", "created_at"),
    ("line", "line__phone_number"),
    ("line name", "line__name"),
    ("phone", "phone"),
    ("name", "name"),
    ("email", "email"),
    ("outcome", "outcome"),
    ("call status", "status"),
    ("test call", "is_test"),
    ("duration (s)", "duration"),
    ("answered", "answered_at"),
    ("ended", "ended_at"),
    ("call reference", "provider_call_id"),
    ("error detail", "error_detail"),
    ("client ip", "client_ip"),
    ("referring page", "referrer"),
    ("user agent", "user_agent"),
]
# Columns a visitor typed: a leading =, +, -, @ would make a spreadsheet run a formula.
UNTRUSTED = {"line__name", "name", "email", "error_detail", "referrer", "user_agent"}
LABELS = {
    "outcome": dict(CallAttempt.Outcome.choices),
    "status": {**dict(CallAttempt.Status.choices), "": ""},
}
LEG_LABELS = dict(CallLeg.Status.choices)
FORMULA_START = frozenset("=+-@\t\r")


DATETIMES = {"created_at", "answered_at", "ended_at"}
BLOCK_ROWS = 500  # rows per piece of text yielded to the response


def _plain(value: Any) -> Any:
    return "" if value is None else value


def spreadsheet_text(value: str | None) -> str:
    """Text for a CSV cell that a spreadsheet will not run as a formula."""
    if not value:
        return ""
    return "'" + value if value[0] in FORMULA_START else value


def _label(labels: dict[str, Any]) -> Callable[[Any], str]:
    plain = {value: str(label) for value, label in labels.items()}  # translated once, not per row

    def convert(value: Any) -> str:
        return "" if value is None else plain.get(value, value)

    return convert


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def _converters() -> list[Callable[[Any], Any]]:
    zone = timezone.get_current_timezone()

    def moment(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(zone).isoformat(timespec="seconds")

    converters: list[Callable[[Any], Any]] = []
    for _, path in COLUMNS:
        if path in DATETIMES:
            converters.append(moment)
        elif path in LABELS:
            converters.append(_label(LABELS[path]))
        elif path == "is_test":
            converters.append(_yes_no)
        elif path in UNTRUSTED:
            converters.append(spreadsheet_text)
        else:
            converters.append(_plain)
    return converters


def variable_keys(queryset: QuerySet) -> list[str]:
    """Every key of the variables of the attempts in ``queryset``, sorted."""
    queryset = queryset.order_by()
    if connections[queryset.db].vendor == "postgresql":
        keys = queryset.annotate(key=Func("variables", function="jsonb_object_keys", output_field=TextField()))
        return sorted(keys.values_list("key", flat=True).distinct())
    found: set[str] = set()
    for variables in queryset.values_list("variables", flat=True).iterator(chunk_size=CHUNK_SIZE):
        if isinstance(variables, dict):
            found.update(variables)
    return sorted(found)


def target_positions(queryset: QuerySet) -> int:
    """How many target columns the attempts in ``queryset`` need (the most legs of one call)."""
    top = CallLeg.objects.filter(attempt__in=queryset.order_by().values("pk")).aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


def _variable_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return spreadsheet_text(json.dumps(value, ensure_ascii=False))
    if isinstance(value, bool):
        return "true" if value else "false"
    return spreadsheet_text(str(value))


def _legs(ids: list[int], labels: dict[str, str]) -> dict[int, dict[int, tuple[str, str, Any]]]:
    """``{attempt id: {position: (target, result, duration)}}`` of the attempts ``ids``."""
    legs: dict[int, dict[int, tuple[str, str, Any]]] = {}
    rows = CallLeg.objects.filter(attempt_id__in=ids).order_by("attempt_id", "position", "pk")
    for attempt_id, position, name, number, status, duration in rows.values_list(
        "attempt_id", "position", "target_name", "target_number", "status", "duration"
    ):
        connected = status == CallLeg.Status.COMPLETED
        legs.setdefault(attempt_id, {})[position] = (
            spreadsheet_text(name or number),
            labels.get(status, status),
            duration if connected and duration is not None else "",
        )
    return legs


def header(keys: list[str], positions: int) -> list[str]:
    """The CSV header for these variable keys and this many target positions."""
    targets = [
        column
        for n in range(1, positions + 1)
        for column in (f"target {n}", f"target {n} result", f"target {n} duration (s)")
    ]
    return [name for name, _ in COLUMNS] + [f"variable: {key}" for key in keys] + targets


def rows(
    queryset: QuerySet, *, chunk_size: int = CHUNK_SIZE, keys: list[str] | None = None, positions: int | None = None
) -> Iterator[list[Any]]:
    """The CSV rows (without the header) of the attempts in ``queryset``, oldest first."""
    keys = variable_keys(queryset) if keys is None else keys
    positions = target_positions(queryset) if positions is None else positions
    paths = [path for _, path in COLUMNS] + ["variables"]
    values = queryset.order_by("created_at", "pk").values_list(*paths).iterator(chunk_size=chunk_size)
    converters = _converters()
    empty_leg = ("", "", "")
    leg_labels = {value: str(label) for value, label in LEG_LABELS.items()}
    for chunk in batched(values, chunk_size):
        legs = _legs([record[0] for record in chunk], leg_labels) if positions else {}
        for record in chunk:
            variables = record[-1] if isinstance(record[-1], dict) else {}
            row = [convert(value) for convert, value in zip(converters, record[:-1], strict=True)]
            row += [_variable_text(variables.get(key)) for key in keys]
            own = legs.get(record[0], {})
            for position in range(positions):
                row += own.get(position, empty_leg)
            yield row


def stream_csv(queryset: QuerySet, *, chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
    """The CSV text of ``queryset``'s attempts in pieces: the header, then blocks of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    keys, positions = variable_keys(queryset), target_positions(queryset)
    writer.writerow(header(keys, positions))
    count = 0
    for row in rows(queryset, chunk_size=chunk_size, keys=keys, positions=positions):
        writer.writerow(row)
        count += 1
        if count % BLOCK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _encoded(pieces: Iterable[str]) -> Iterator[bytes]:
    for piece in pieces:
        if piece:
            yield piece.encode()


def csv_response(queryset: QuerySet, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of ``queryset``'s attempts."""
    response = StreamingHttpResponse(_encoded(stream_csv(queryset)), content_type="text/csv; charset=utf-8")
    return as_attachment(response, filename)


def as_attachment(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    """``response`` as a download named ``filename`` (made safe), never cached."""
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["Cache-Control"] = "no-store"
    return response
