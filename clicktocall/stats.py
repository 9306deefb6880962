"""A campaign line's results over a date range, computed with a few aggregate queries.

Every figure comes from ``GROUP BY`` queries over the attempts of one line in one date
range (the ``(line, -created_at)`` index narrows the rows); no Python loop runs over
attempts or legs, so the cost stays flat in Python whatever the volume. The only loop in
Python is over the days of the range, to fill days without requests with zeros.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Avg, Count, Exists, Max, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import CallAttempt, CallLeg, CampaignLine

#: The outcomes that are refusals, in the order they are shown.
REFUSALS = [
    CallAttempt.Outcome.INVALID,
    CallAttempt.Outcome.INACTIVE,
    CallAttempt.Outcome.THROTTLED,
    CallAttempt.Outcome.BLOCKED,
    CallAttempt.Outcome.ERROR,
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


@dataclass
class LineStats:
    """Everything the stats page shows for one line and one range."""

    line: CampaignLine
    start: dt.date
    end: dt.date
    days: list[Day] = field(default_factory=list)
    requests: int = 0
    placed: int = 0
    answered: int = 0
    connected: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    pending: int = 0
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


def line_stats(line: CampaignLine, start: dt.date, end: dt.date) -> LineStats:
    """The results of ``line`` for requests made from ``start`` to ``end`` (both included)."""
    low, high = bounds(start, end)
    attempts = CallAttempt.objects.filter(line=line, created_at__gte=low, created_at__lt=high).order_by()
    placed = Q(outcome=CallAttempt.Outcome.PLACED)
    refused = Q(outcome__in=REFUSALS)
    stats = LineStats(line=line, start=start, end=end)

    per_day = {
        row["day"]: row
        for row in attempts.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(requests=Count("pk"), placed=Count("pk", filter=placed), refused=Count("pk", filter=refused))
        .order_by("day")
    }
    day = start
    while day <= end:
        row = per_day.get(day)
        stats.days.append(
            Day(day, row["requests"], row["placed"], row["refused"]) if row else Day(day, 0, 0, 0)
        )
        day += dt.timedelta(days=1)

    totals = attempts.aggregate(
        requests=Count("pk"),
        placed=Count("pk", filter=placed),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        call_seconds=Sum("duration", filter=Q(answered_at__isnull=False)),
        connected=Count(
            "pk",
            filter=Q(Exists(CallLeg.objects.filter(attempt=OuterRef("pk"), status=CallLeg.Status.COMPLETED))),
        ),
        pending=Count("pk", filter=Q(outcome__in=[CallAttempt.Outcome.PENDING, CallAttempt.Outcome.QUEUED])),
        **{f"refused_{code.value}": Count("pk", filter=Q(outcome=code)) for code in REFUSALS},
    )
    stats.requests = totals["requests"]
    stats.placed = totals["placed"]
    stats.answered = totals["answered"]
    stats.call_seconds = totals["call_seconds"] or 0
    stats.connected = totals["connected"]
    stats.refused = {code.value: totals[f"refused_{code.value}"] for code in REFUSALS}
    stats.pending = totals["pending"]

    legs = CallLeg.objects.filter(attempt__line=line, attempt__created_at__gte=low, attempt__created_at__lt=high)
    completed = Q(status=CallLeg.Status.COMPLETED)
    rows = (
        legs.order_by()
        .values("target")
        .annotate(
            name=Max("target_name"),
            number=Max("target_number"),
            legs=Count("pk"),
            connected=Count("pk", filter=completed),
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
        )
        for row in rows
    ]
    return stats
