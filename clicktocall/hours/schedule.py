"""Office hours as pure functions: whether an office is open at an instant, and when it opens next.

Nothing here reads the database or the clock: every function takes the hours, the time
zone and the instant it is about. Times are compared in the office's own zone with
``zoneinfo``, so a daylight-saving change moves the opening with the local clock.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAYS = frozenset(range(5))  # Monday (0) … Friday (4), as date.weekday() counts
DEFAULT_ZONE = "America/New_York"
HORIZON_DAYS = 60  # the furthest ahead an opening is looked for
# A visitor is called back only during their own day, never at night.
VISITOR_DAY = (dt.time(8), dt.time(21))

Window = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Hours:
    """When an office answers: days of the week, a daily window, and dates it is closed."""

    days: frozenset[int] = WEEKDAYS
    opens: dt.time = dt.time(9)
    closes: dt.time = dt.time(17)
    us_holidays: bool = True  # closed on US federal holidays
    closed: frozenset[dt.date] = field(default_factory=frozenset)  # other dates it is closed
    open_dates: frozenset[dt.date] = field(default_factory=frozenset)  # holidays it opens after all


ALWAYS = Hours(days=frozenset(range(7)), opens=dt.time(0), closes=dt.time(0), us_holidays=False)


@functools.lru_cache(maxsize=64)
def us_holidays(year: int) -> dict[dt.date, str]:
    """The US federal holidays of ``year`` (observed dates included), from the ``holidays`` package."""
    return dict(holidays.US(years=year))


def holiday_name(day: dt.date) -> str:
    return us_holidays(day.year).get(day, "")


def zone(name: str | None, default: str = DEFAULT_ZONE) -> ZoneInfo:
    """The IANA zone ``name``, else ``default``: a bad name never raises."""
    for candidate in (name, default, DEFAULT_ZONE):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo(DEFAULT_ZONE)


def is_open_day(hours: Hours, day: dt.date) -> bool:
    """Whether the office opens at all on ``day`` (its local date)."""
    if day in hours.open_dates:
        return True
    if day in hours.closed:
        return False
    if hours.us_holidays and day in us_holidays(day.year):
        return False
    return day.weekday() in hours.days


def day_window(hours: Hours, tz: ZoneInfo, day: dt.date) -> Window | None:
    """The instants (aware, in ``tz``) the office is open on its local date ``day``, or None.

    A closing time at or before the opening time runs to that time the next day (00:00
    to 00:00 is the whole day). A local time that does not exist (a daylight-saving gap)
    is read as the clock shows it after the change.
    """
    if not is_open_day(hours, day):
        return None
    start = local_instant(day, hours.opens, tz)
    end_day = day if hours.closes > hours.opens else day + dt.timedelta(days=1)
    end = local_instant(end_day, hours.closes, tz)
    return (start, end) if end > start else None


def local_instant(day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The instant the clock in ``tz`` shows ``time`` on ``day``; in a DST gap, as the clock shows it after."""
    # Round-trip through UTC so a time in a DST gap becomes the real instant the clock shows it.
    naive = dt.datetime.combine(day, time)
    return naive.replace(tzinfo=tz).astimezone(dt.UTC).astimezone(tz)


def windows(hours: Hours, tz: ZoneInfo, start: dt.datetime, days: int = HORIZON_DAYS) -> Iterator[Window]:
    """The office's open windows that end after ``start``, in order, for ``days`` local days."""
    first = start.astimezone(tz).date() - dt.timedelta(days=1)  # a window may run past midnight
    for n in range(days + 1):
        window = day_window(hours, tz, first + dt.timedelta(days=n))
        if window is not None and window[1] > start:
            yield window


def is_open(hours: Hours, tz: ZoneInfo, at: dt.datetime) -> bool:
    """Whether the office is open at the instant ``at``."""
    return any(begin <= at < end for begin, end in windows(hours, tz, at, days=2))


def next_opening(hours: Hours, tz: ZoneInfo, after: dt.datetime) -> dt.datetime | None:
    """``after`` itself when open then, else the start of the next window (None: never opens)."""
    for begin, _end in windows(hours, tz, after):
        return max(begin, after)
    return None


def visitor_windows(tz: ZoneInfo, start: dt.datetime, days: int = HORIZON_DAYS) -> Iterator[Window]:
    """The hours of the day a visitor in ``tz`` may be called (``VISITOR_DAY``), every day."""
    day = Hours(days=frozenset(range(7)), opens=VISITOR_DAY[0], closes=VISITOR_DAY[1], us_holidays=False)
    return windows(day, tz, start, days)


def first_common(after: dt.datetime, offices: Iterable[Window], visitor: Iterable[Window] | None) -> dt.datetime | None:
    """The first instant at or after ``after`` when an office is open and, if given, the visitor awake.

    ``offices`` holds the windows of every office that may be called (any one open is
    enough); each list of windows must be sorted.
    """
    office_list = sorted(offices)
    visitor_list = list(visitor) if visitor is not None else [(after, dt.datetime.max.replace(tzinfo=dt.UTC))]
    best: dt.datetime | None = None
    for begin, end in office_list:
        if end <= after:
            continue
        for v_begin, v_end in visitor_list:
            start, stop = max(begin, v_begin, after), min(end, v_end)
            if start < stop:
                best = start if best is None else min(best, start)
                break
            if v_begin >= end:
                break
        if best is not None and begin > best:
            break
    return best


def parse_dates(text: str) -> tuple[frozenset[dt.date], list[str]]:
    """Dates written one per line as YYYY-MM-DD (anything after the date is a note), and the bad lines."""
    dates: set[dt.date] = set()
    bad: list[str] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        try:
            dates.add(dt.date.fromisoformat(line.split()[0]))
        except ValueError:
            bad.append(line)
    return frozenset(dates), bad


def parse_days(text: str) -> frozenset[int]:
    """Week days stored as ISO digits, "12345" for Monday to Friday, as ``date.weekday()`` numbers."""
    return frozenset(int(ch) - 1 for ch in (text or "") if ch in "1234567")
