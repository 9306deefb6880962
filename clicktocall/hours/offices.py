"""The office hours of a line and of each of its targets, and the visitor's time zone.

A line keeps one set of hours (days, a daily window, closed dates); each target is read
in its own time zone (the office's, for members of Congress) unless the line names one,
and a custom target may have a window of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import phonenumbers
import zipcodes
from phonenumbers import timezone as number_zones

from . import schedule
from .schedule import Hours

if TYPE_CHECKING:
    from ..models import CampaignLine, Target
    from ..targets import ResolvedTarget


def line_hours(line: CampaignLine) -> Hours:
    """The line's hours as ``schedule`` reads them."""
    closed, _ = schedule.parse_dates(line.hours_closed_dates)
    open_dates, _ = schedule.parse_dates(line.hours_open_dates)
    return Hours(
        days=schedule.parse_days(line.hours_days),
        opens=line.hours_opens,
        closes=line.hours_closes,
        us_holidays=line.hours_us_holidays,
        closed=closed,
        open_dates=open_dates,
    )


def target_override(target: Target) -> dict[str, Any]:
    """The parts of the line's hours a custom target replaces (its own days or window)."""
    own: dict[str, Any] = {}
    if target.hours_days:
        own["days"] = schedule.parse_days(target.hours_days)
    if target.hours_opens is not None:
        own["opens"] = target.hours_opens
    if target.hours_closes is not None:
        own["closes"] = target.hours_closes
    return own


def line_zone(line: CampaignLine) -> str:
    """The zone of a line without targets to read one from: its own setting, else its number's area."""
    return line.hours_time_zone or number_zone(line.phone_number) or schedule.DEFAULT_ZONE


@dataclass(frozen=True)
class OfficeHours:
    """One target's hours in its zone."""

    name: str
    hours: Hours
    tz: ZoneInfo

    def is_open(self, at: dt.datetime) -> bool:
        return schedule.is_open(self.hours, self.tz, at)

    def next_opening(self, at: dt.datetime) -> dt.datetime | None:
        return schedule.next_opening(self.hours, self.tz, at)


def for_target(line: CampaignLine, target: ResolvedTarget, office: int = 0) -> OfficeHours:
    """The hours of ``target`` (at its office ``office``) on ``line``."""
    hours = line_hours(line)
    if target.hours:
        hours = replace(hours, **dict(target.hours))
    number = target.offices[min(office, len(target.offices) - 1)] if target.offices else None
    own = number.time_zone if number else ""
    # A custom target's own zone was set for it; an office's from the data yields to the line's choice.
    name = (own if target.target_id is not None else "") or line.hours_time_zone or own or line_zone(line)
    return OfficeHours(target.name, hours, schedule.zone(name))


def for_line(line: CampaignLine, targets: Iterable[ResolvedTarget]) -> list[OfficeHours]:
    """The hours of each target; without targets (not found yet), the line's in its own zone."""
    offices = [for_target(line, target) for target in targets]
    return offices or [OfficeHours(str(line), line_hours(line), schedule.zone(line_zone(line)))]


def is_open(line: CampaignLine, targets: Iterable[ResolvedTarget], at: dt.datetime) -> bool:
    """Whether a call on ``line`` would reach an open office at ``at`` (any target open is enough)."""
    if not line.hours_enabled:
        return True
    return any(office.is_open(at) for office in for_line(line, targets))


def next_opening(
    line: CampaignLine, targets: Iterable[ResolvedTarget], after: dt.datetime, visitor_zone: str = ""
) -> dt.datetime | None:
    """The first instant an office opens and, when the visitor's zone is known, it is day for them."""
    offices = for_line(line, targets)
    windows = [w for office in offices for w in schedule.windows(office.hours, office.tz, after)]
    visitor = schedule.visitor_windows(schedule.zone(visitor_zone), after) if visitor_zone else None
    return schedule.first_common(after, windows, visitor)


def number_zone(e164: str) -> str:
    """The time zone of a number's area when it has exactly one (phonenumbers' offline data), else ""."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ""
    zones = [z for z in number_zones.time_zones_for_number(number) if z != number_zones.UNKNOWN_TIMEZONE]
    return zones[0] if len(zones) == 1 else ""


def zip_zone(zip_code: Any) -> str:
    """The time zone of a US ZIP code (the ``zipcodes`` package's offline data), else ""."""
    text = str(zip_code or "").strip()[:5]
    if len(text) != 5 or not (text.isascii() and text.isdigit()):  # the package's parser wants ASCII digits
        return ""
    try:
        found = zipcodes.matching(text)
    except (TypeError, ValueError):
        return ""
    return next((row.get("timezone") or "" for row in found if row.get("timezone")), "")


def visitor_zone(variables: Mapping[str, Any], phone: str) -> str:
    """The visitor's likely time zone: from their ZIP code, else their number's area, else ""."""
    zone = zip_zone(variables.get("zip")) if isinstance(variables, Mapping) else ""
    return zone or number_zone(phone)
