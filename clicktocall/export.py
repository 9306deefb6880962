"""Call attempts as CSV, streamed: flat in memory however many rows there are.

``stream_csv`` reads the queryset in chunks (``iterator(chunk_size=…)``, a server-side
cursor on PostgreSQL) as plain tuples and yields one CSV line at a time;
``csv_response`` wraps it in a ``StreamingHttpResponse``. Free text that the visitor
typed is guarded against spreadsheet formula injection.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
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
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose ``write`` returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _cell(path: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    if path in UNTRUSTED and isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def rows(queryset: QuerySet, *, chunk_size: int = CHUNK_SIZE) -> Iterator[list[Any]]:
    """The CSV rows (without the header) of the attempts in ``queryset``, oldest first."""
    paths = [path for _, path in COLUMNS]
    values = queryset.order_by("created_at", "pk").values_list(*paths).iterator(chunk_size=chunk_size)
    for record in values:
        yield [_cell(path, value) for path, value in zip(paths, record, strict=True)]


def stream_csv(queryset: QuerySet, *, chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
    """The CSV text of ``queryset``'s attempts, a header line then one line per attempt."""
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in COLUMNS])
    for row in rows(queryset, chunk_size=chunk_size):
        yield writer.writerow(row)


def _joined(lines: Iterable[str], size: int = 64 * 1024) -> Iterator[bytes]:
    """Group lines into blocks of about ``size`` bytes: fewer, larger writes to the socket."""
    block: list[str] = []
    length = 0
    for line in lines:
        block.append(line)
        length += len(line)
        if length >= size:
            yield "".join(block).encode()
            block, length = [], 0
    if block:
        yield "".join(block).encode()


def csv_response(queryset: QuerySet, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of ``queryset``'s attempts."""
    response = StreamingHttpResponse(_joined(stream_csv(queryset)), content_type="text/csv; charset=utf-8")
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["Cache-Control"] = "no-store"
    return response
