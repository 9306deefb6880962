"""Call attempts as CSV, streamed: flat in memory however many rows there are.

``stream_csv`` reads the queryset in chunks (``iterator(chunk_size=…)``, a server-side
cursor on PostgreSQL) as plain tuples and yields one CSV line at a time;
``csv_response`` wraps it in a ``StreamingHttpResponse``. Free text that the visitor
typed is guarded against spreadsheet formula injection.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpResponseBase, StreamingHttpResponse
from django.utils import timezone

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
    ("duration (s)", "duration"),
    ("answered", "answered_at"),
    ("ended", "ended_at"),
    ("provider call id", "provider_call_id"),
    ("error detail", "error_detail"),
    ("client ip", "client_ip"),
    ("referring page", "referrer"),
    ("user agent", "user_agent"),
    ("variables", "variables"),
]
# Columns a visitor typed: a leading =, +, -, @ would make a spreadsheet run a formula.
UNTRUSTED = {"line__name", "name", "email", "error_detail", "referrer", "user_agent", "variables"}
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


def _json_text(value: str | None) -> str:
    return "" if value in (None, "{}", "[]", "null") else spreadsheet_text(value)


def _converters() -> list[Callable[[Any], Any]]:
    zone = timezone.get_current_timezone()

    def moment(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(zone).isoformat(timespec="seconds")

    converters: list[Callable[[Any], Any]] = []
    for _, path in COLUMNS:
        if path in DATETIMES:
            converters.append(moment)
        elif path == "variables":
            converters.append(_json_text)
        elif path in UNTRUSTED:
            converters.append(spreadsheet_text)
        else:
            converters.append(_plain)
    return converters


def rows(queryset: QuerySet, *, chunk_size: int = CHUNK_SIZE) -> Iterator[list[Any]]:
    """The CSV rows (without the header) of the attempts in ``queryset``, oldest first."""
    # The variables are read as the database's JSON text: no decoding and encoding again.
    paths = ["variables_text" if path == "variables" else path for _, path in COLUMNS]
    values = (
        queryset.annotate(variables_text=Cast("variables", TextField()))
        .order_by("created_at", "pk")
        .values_list(*paths)
        .iterator(chunk_size=chunk_size)
    )
    converters = _converters()
    for record in values:
        yield [convert(value) for convert, value in zip(converters, record, strict=True)]


def stream_csv(queryset: QuerySet, *, chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
    """The CSV text of ``queryset``'s attempts in pieces: the header, then blocks of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for header, _ in COLUMNS])
    count = 0
    for row in rows(queryset, chunk_size=chunk_size):
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
