"""The admin of a table of millions of rows: every page reads a bounded number of rows.

- ``LargeTablePaginator``: the changelist counts the rows it pages through; an exact
  count reads the whole table (or index) on every page view. This paginator counts
  exactly only up to ``exact_limit`` rows (``SELECT COUNT(*) FROM (… LIMIT n)``);
  past that, on PostgreSQL, it takes the planner's estimate of the filtered query
  (``EXPLAIN``, no rows read). Other databases (the embedded SQLite) count exactly.
- ``DateRangeQuerySet``: the date hierarchy lists the years, months or days that hold
  rows with ``SELECT DISTINCT date_trunc(…)`` over every matching row. This queryset
  lists every period between the first and the last row instead: ``MIN`` and ``MAX``,
  two index lookups. A period without rows may be listed (its page is empty).
- ``LargeTableMixin``: both, and a search by phone number that uses the phone index
  (the attempts from that number, or to the line it names); the last four to seven
  digits of a number (e.g. 2338 or 523-2338) find the numbers that end with them.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property


class LargeTablePaginator(Paginator):
    exact_limit = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not hasattr(queryset, "query"):
            return super().count
        bounded = queryset.order_by()[: self.exact_limit + 1].count()
        if bounded <= self.exact_limit:
            return bounded
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return queryset.count()
        self.estimated = True
        return max(self.exact_limit + 1, self.planner_estimate(queryset))

    estimated = False

    @staticmethod
    def planner_estimate(queryset) -> int:
        """PostgreSQL's estimate of the rows ``queryset`` matches, without reading them."""
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        with connections[queryset.db].cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])


class DateRangeQuerySet(QuerySet):
    """``dates()`` and ``datetimes()`` from the first and last row: no scan of the rows between."""

    def _bounds(self, field_name: str, tzinfo=None) -> tuple[datetime, datetime] | None:
        bounds = self.order_by().aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return None
        first, last = bounds["first"], bounds["last"]
        if isinstance(first, datetime) and timezone.is_aware(first):
            first, last = timezone.localtime(first, tzinfo), timezone.localtime(last, tzinfo)
        return first, last

    def dates(self, field_name: str, kind: str, order: str = "ASC") -> list[date]:
        bounds = self._bounds(field_name)
        if bounds is None:
            return []
        days = _periods(bounds[0], bounds[1], kind)
        return days if order == "ASC" else days[::-1]

    def datetimes(self, field_name: str, kind: str, order: str = "ASC", tzinfo=None) -> list[datetime]:
        if kind not in {"year", "month", "week", "day"}:
            return super().datetimes(field_name, kind, order, tzinfo)
        bounds = self._bounds(field_name, tzinfo)
        if bounds is None:
            return []
        zone = tzinfo or (timezone.get_current_timezone() if timezone.is_aware(bounds[0]) else None)
        moments = [datetime(d.year, d.month, d.day, tzinfo=zone) for d in _periods(bounds[0], bounds[1], kind)]
        return moments if order == "ASC" else moments[::-1]


def _periods(first: date, last: date, kind: str) -> list[date]:
    """The first day of every year, month, week or day from ``first`` to ``last``."""
    first, last = _as_date(first), _as_date(last)
    if kind == "year":
        return [date(year, 1, 1) for year in range(first.year, last.year + 1)]
    if kind == "month":
        months = []
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            months.append(date(year, month, 1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months
    step = 7 if kind == "week" else 1
    start = first - timedelta(days=first.weekday()) if kind == "week" else first
    return [start + timedelta(days=n) for n in range(0, (last - start).days + 1, step)]


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


class LargeTableMixin:
    """A changelist that stays fast on millions of rows (see the module's docstring)."""

    paginator = LargeTablePaginator
    show_full_result_count = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if isinstance(queryset, DateRangeQuerySet):
            return queryset
        clone = queryset._chain()
        clone.__class__ = _date_range_class(type(queryset))
        return clone

    def get_search_results(self, request, queryset, search_term):
        """A search for an E.164 number (``PhoneSearchMixin`` turns any format into one) is an exact,
        indexed match on the number, or on the line's; the last digits of a number find candidates."""
        term = search_term.strip()
        if term.startswith("+") and term[1:].isdigit() and len(term) <= 16:
            return queryset.filter(Q(phone=term) | Q(line__phone_number=term)), False
        digits = re.sub(r"[\s().-]", "", term)
        if digits.isdigit() and 4 <= len(digits) <= 7:
            results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
            return results | queryset.filter(phone__endswith=digits), may_have_duplicates
        return super().get_search_results(request, queryset, search_term)


_classes: dict[type, type] = {}


def _date_range_class(base: type) -> type:
    if base not in _classes:
        _classes[base] = (
            base
            if issubclass(base, DateRangeQuerySet)
            else type(f"DateRange{base.__name__}", (DateRangeQuerySet, base), {})
        )
    return _classes[base]
