"""A campaign line's results over a date range, computed with two aggregate queries.

One ``GROUP BY`` day over the attempts of one line in one date range gives every figure
per day, and their sums the totals; one ``GROUP BY`` target over the legs of those
attempts gives the per-target rows. Each reads one table through an index that holds
every column it needs (``ctc_attempt_line_date``, ``ctc_leg_line_stats``): whether an
attempt connected to a target is counted on the attempt (``connected_legs``), and each
leg carries its attempt's line and request time (see ``denormalized``), so no query
looks up legs per attempt or joins the two tables. No Python loop runs over attempts or
legs; the only ones are over the days of the range (to fill days without requests with
zeros) and the per-day rows (to sum them).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Avg, Case, Count, DateField, DateTimeField, Func, Max, Q, Sum, Value, When
from django.db.models.functions import Substr, TruncDate
from django.db.models.lookups import LessThan
from django.utils import timezone

from .models import CallAttempt, CallLeg, CampaignLine

#: The outcomes that are refusals, in the order they are shown.
REFUSALS = [
    CallAttempt.Outcome.INVALID,
    CallAttempt.Outcome.INACTIVE,
    CallAttempt.Outcome.THROTTLED,
    CallAttempt.Outcome.BLOCKED,
    CallAttempt.Outcome.OUTSIDE_HOURS,
    CallAttempt.Outcome.CANCELED,
    CallAttempt.Outcome.ERROR,
    CallAttempt.Outcome.UNKNOWN,
]

#: The longest range a stats page covers, in days.
MAX_DAYS = 366


@dataclass(frozen=True)
class Day:
    """Requests on one day: how many, how many were placed, how many were refused or failed."""

    date: dt.date
    requests: int
    placed: int
    refused: int


@dataclass(frozen=True)
class TargetRow:
    """How often one target was dialed and connected, and for how long."""

    target_id: int | None
    name: str
    number: str
    legs: int
    connected: int
    total_duration: int
    average_duration: float | None
    member_id: str = ""  # the bioguide id, for a member of Congress


@dataclass
class LineStats:
    """Everything the stats page shows for one line and one range."""

    line: CampaignLine
    start: dt.date
    end: dt.date
    days: list[Day] = field(default_factory=list)
    requests: int = 0
    placed: int = 0
    scheduled: int = 0  # call-backs and reminders still to be placed
    answered: int = 0
    connected: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    call_seconds: int = 0
    targets: list[TargetRow] = field(default_factory=list)

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    @property
    def refusal_rows(self) -> list[tuple[str, str, int]]:
        """``(code, label, count)`` for every refusal reason, in display order."""
        return [(code.value, code.label, self.refused.get(code.value, 0)) for code in REFUSALS]


def bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The aware datetimes ``[start 00:00, end+1 00:00)`` in the current time zone."""
    tz = timezone.get_current_timezone()
    low = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return low, high


def default_range(days: int = 30, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last ``days`` days, today included."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=days - 1), today


def offset_changes(low: dt.datetime, high: dt.datetime, tz: dt.tzinfo) -> list[tuple[dt.datetime, dt.timedelta]]:
    """``[(from, UTC offset)]``: the offsets of ``tz`` over ``[low, high)`` and the instants they begin.

    The first instant is ``low``; each later one is a change (daylight saving time), found
    to the second between two days whose offsets differ.
    """

    def offset(when: dt.datetime) -> dt.timedelta:
        return when.astimezone(tz).utcoffset() or dt.timedelta(0)

    low, high = low.astimezone(dt.UTC), high.astimezone(dt.UTC)  # arithmetic in elapsed time, not wall time
    changes = [(low, offset(low))]
    day = low
    while day < high:
        following = min(day + dt.timedelta(days=1), high)
        if offset(following) != changes[-1][1]:
            before, after = day, following
            while (after - before).total_seconds() > 1:
                middle = before + dt.timedelta(seconds=(after - before).total_seconds() // 2)
                before, after = (before, middle) if offset(middle) != changes[-1][1] else (middle, after)
            changes.append((after, offset(after)))
        day = following
    return changes


class LocalDate(TruncDate):
    """The date in ``tzinfo`` of a datetime column, for rows from ``low`` to ``high``.

    ``TruncDate`` everywhere but on SQLite, where that calls a Python function per row;
    there it is the built-in ``date(column, '+N seconds')`` (of the whole seconds), with
    one offset for each stretch of the range between daylight saving time changes.
    """

    def __init__(self, expression: str, tzinfo: dt.tzinfo, low: dt.datetime, high: dt.datetime) -> None:
        super().__init__(expression, tzinfo=tzinfo)
        self.low, self.high = low, high

    def as_sqlite(self, compiler, connection, **extra_context):
        column = self.get_source_expressions()[0]
        changes = offset_changes(self.low, self.high, self.tzinfo)
        # Whole seconds: SQLite rounds fractions to milliseconds, 23:59:59.9999 to the next day.
        seconds = Substr(column, 1, 19)
        dates = [
            Func(seconds, Value(f"{offset.total_seconds():+.0f} seconds"), function="date", output_field=DateField())
            for _, offset in changes
        ]
        ends = [Value(start, output_field=DateTimeField()) for start, _ in changes[1:]]
        local = Case(
            *[When(LessThan(column, end), then=date) for end, date in zip(ends, dates, strict=False)],
            default=dates[-1],
            output_field=DateField(),
        )
        return compiler.compile(local)


def line_stats(line: CampaignLine, start: dt.date, end: dt.date, *, include_tests: bool = False) -> LineStats:
    """The results of ``line`` for requests made from ``start`` to ``end`` (both included).

    Staff's test calls are left out unless ``include_tests``.
    """
    low, high = bounds(start, end)
    stats = LineStats(line=line, start=start, end=end)
    attempts = CallAttempt.objects.filter(line=line, created_at__gte=low, created_at__lt=high)
    legs = CallLeg.objects.filter(line=line, requested_at__gte=low, requested_at__lt=high)
    if not include_tests:
        attempts = attempts.exclude(is_test=True)
        tests = CallAttempt.objects.filter(line=line, is_test=True, created_at__gte=low, created_at__lt=high)
        legs = legs.exclude(attempt__in=tests.values("pk"))
    answered = Q(answered_at__isnull=False)
    # Count a non-null column the index holds (not the id), so PostgreSQL reads the index only.
    counted = "created_at"
    per_day = {
        row.pop("day"): row
        for row in attempts.order_by()
        .annotate(day=LocalDate("created_at", timezone.get_current_timezone(), low, high))
        .values("day")
        .annotate(
            requests=Count(counted),
            placed=Count(counted, filter=Q(outcome=CallAttempt.Outcome.PLACED)),
            scheduled=Count(counted, filter=Q(outcome=CallAttempt.Outcome.SCHEDULED)),
            answered=Count(counted, filter=answered),
            call_seconds=Sum("duration", filter=answered),
            connected=Count(counted, filter=Q(connected_legs__gt=0)),
            **{f"refused_{code.value}": Count(counted, filter=Q(outcome=code)) for code in REFUSALS},
        )
    }
    totals: Counter[str] = Counter()
    for row in per_day.values():
        totals.update({name: value or 0 for name, value in row.items()})
    day = start
    while day <= end:
        row = per_day.get(day)
        refused = sum(row[f"refused_{code.value}"] for code in REFUSALS) if row else 0
        stats.days.append(Day(day, row["requests"], row["placed"], refused) if row else Day(day, 0, 0, 0))
        day += dt.timedelta(days=1)
    stats.requests = totals["requests"]
    stats.placed = totals["placed"]
    stats.scheduled = totals["scheduled"]
    stats.answered = totals["answered"]
    stats.call_seconds = totals["call_seconds"]
    stats.connected = totals["connected"]
    stats.refused = {code.value: totals[f"refused_{code.value}"] for code in REFUSALS}

    completed = Q(status=CallLeg.Status.COMPLETED)
    counted = "requested_at"
    rows = (
        legs.order_by()
        .values("target", "member_id")
        .annotate(
            name=Max("target_name"),
            number=Max("target_number"),
            legs=Count(counted),
            connected=Count(counted, filter=completed),
            total_duration=Sum("duration", filter=completed),
            average_duration=Avg("duration", filter=completed),
        )
        .order_by("-connected", "name")
    )
    stats.targets = [
        TargetRow(
            target_id=row["target"],
            name=row["name"] or "",
            number=row["number"] or "",
            legs=row["legs"],
            connected=row["connected"],
            total_duration=row["total_duration"] or 0,
            average_duration=float(row["average_duration"]) if row["average_duration"] is not None else None,
            member_id=row["member_id"],
        )
        for row in rows
    ]
    return stats
