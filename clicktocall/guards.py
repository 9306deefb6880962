"""Limits and refusals applied to a valid request before a call is placed.

In order: the blocklist (the constituent's number, the client's network), the rate per
client network (an address for IPv4, a /64 for IPv6), the cooldown of one number on one
line, the rate per number across all lines, and the line's daily cap. The phone
blocklist is read in the query that finds the line (``annotate()``), the network
blocklist lives in the cache, and the counters in the limit store (``limits``): the
cache when it is Redis or Memcached, else the database.

A request whose call does not happen gives back what it took (``give_back()``), and the
refused requests of one address keep their details only up to an hourly share
(``keeps_details()``).

Also here: which destinations a line may call (``destination_problem()``), the guard
against toll fraud.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import phonenumbers
from django.db import models
from phonenumbers import PhoneNumberType

from . import blocklist, clients, limits
from . import phone as phones
from .conf import conf

if TYPE_CHECKING:
    from .calls import Outcome
    from .models import CampaignLine

logger = logging.getLogger("clicktocall.guards")

# Number types a person answers. Premium-rate, shared-cost, UAN, personal (follow-me)
# numbers, pagers, toll-free and unknown types are refused: they are the usual vehicles
# of toll fraud, and no constituent is reached on them.
DESTINATION_TYPES = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.VOIP,
    }
)


@dataclass(frozen=True)
class Refusal:
    """Why a valid request places no call: the answer, the recorded outcome, a detail."""

    outcome: Outcome
    code: str
    detail: str
    retry_after: int | None = None


def annotate(queryset: models.QuerySet, phone: str) -> models.QuerySet:
    """Add ``phone_blocked`` to a query for campaign lines, so no query of its own is needed."""
    return queryset.annotate(phone_blocked=blocklist.phone_blocked(phone))


def allowed_countries(line: CampaignLine) -> set[str]:
    """The line's own list, else the site's, else the line's own country."""
    own = set(phones.country_codes(line.allowed_countries))
    if own:
        return own
    if conf.ALLOWED_COUNTRIES:
        return set(conf.ALLOWED_COUNTRIES)
    region = phones.region_of(line.phone_number)
    return {region} if region else set()


def destination_problem(line: CampaignLine, number: phonenumbers.PhoneNumber | None) -> str | None:
    """Why ``number`` may not be dialed from ``line``, or None."""
    if number is None:
        return None
    kind = phonenumbers.number_type(number)
    if kind not in DESTINATION_TYPES:
        name = PhoneNumberType.to_string(kind).lower().replace("_", "-")
        return f"not a personal number ({name})"
    region = phonenumbers.region_code_for_number(number)
    allowed = allowed_countries(line)
    if region not in allowed:
        return f"destination country {region} not allowed (allowed: {', '.join(sorted(allowed)) or 'none'})"
    return None


def cooldown_seconds(line: CampaignLine) -> int:
    return line.cooldown_seconds if line.cooldown_seconds is not None else conf.COOLDOWN_SECONDS


def daily_cap(line: CampaignLine) -> int:
    return line.daily_cap if line.daily_cap is not None else conf.DAILY_CAP


def give_back(line: CampaignLine, phone: str, client_ip: str | None, at: datetime, *, client: bool = True) -> None:
    """Give back what an accepted request taken at ``at`` spent: its call did not happen.

    The cooldown ends, and the request no longer counts against the number's rate and
    the line's daily cap; with ``client``, nor against the client address's rate. The
    cache being down must not hide the failure that led here: errors are logged.
    """
    now = at.timestamp()
    counters = limits.window_keys("phone", phone, _rates(conf.PHONE_RATE), now)
    if daily_cap(line) > 0:
        counters.append(limits.today_key("line", line.pk, at))
    if client:
        counters += limits.window_keys("ip", client_key(client_ip), _rates(conf.IP_RATE), now)
    try:
        limits.release(limits.key("cooldown", line.pk, phone))
        limits.give_back(counters)
    except Exception:
        logger.exception("could not give back the limits taken for line %s", line.pk)


def keeps_details(client_ip: str | None) -> bool:
    """Whether a refused request from ``client_ip`` may store its details: the first
    ``CLICKTOCALL_REFUSED_RECORDS_PER_HOUR`` of an address in an hour may, later ones store
    a minimal record. With the cache down, records are minimal."""
    per_hour = conf.REFUSED_RECORDS_PER_HOUR
    if per_hour <= 0:
        return False
    try:
        return limits.hit("refused", client_key(client_ip), [limits.Rate(per_hour, 3600)]) is None
    except Exception as exc:
        logger.warning("could not count the refused requests of an address: %s", exc.__class__.__name__)
        return False


def client_key(ip: str | None) -> str:
    """What the limits count a client as: its network (an IPv6 /64). Requests whose address
    is unknown (a misconfigured proxy) share one allowance."""
    return clients.client_key(ip) or "unknown"


def _rates(text: str) -> list[limits.Rate]:
    try:
        return limits.parse_rates(text)
    except ValueError:  # reported by the system checks
        return []


def refusal(line: CampaignLine, params: Any, meta: Any, at: datetime) -> Refusal | None:
    """The first limit the request runs into, or None when the call may be placed.

    The limits are taken at the time ``at``. When the cache that keeps them cannot be
    reached, the request is refused (``error``) and whatever it had taken is given back:
    no call is placed without its limits.
    """
    from .calls import Outcome
    from .models import CallAttempt

    blocked = CallAttempt.Outcome.BLOCKED
    phone, ip = params.phone, meta.client_ip

    phone_blocked = getattr(line, "phone_blocked", None)  # read with the line when found through annotate()
    entry = blocklist.phone_entry(phone) if phone_blocked is not False else None
    if phone_blocked or entry is not None:
        blocklist.record_hit(entry)
        return Refusal(Outcome.ERROR, blocked, "blocklist: the number is blocked")
    taken: list[Callable[[], None]] = []  # how to undo each limit taken so far
    try:
        entry = blocklist.network_entry(ip)
        if entry is not None:
            blocklist.record_hit(entry)
            return Refusal(Outcome.ERROR, blocked, f"blocklist: the address {ip} is blocked")
        return _take_limits(line, phone, ip, at, taken)
    except Exception as exc:
        logger.exception("line %s: the limits could not be applied", line.pk)
        try:
            for undo in taken:
                undo()
        except Exception:
            logger.exception("could not give back the limits taken for line %s", line.pk)
        detail = f"limits unavailable: {exc.__class__.__name__}"
        return Refusal(Outcome.ERROR, CallAttempt.Outcome.ERROR, detail)


def _take_limits(
    line: CampaignLine, phone: str, ip: str | None, at: datetime, taken: list[Callable[[], None]]
) -> Refusal | None:
    """Take the request's rates, cooldown and daily count; ``taken`` gets how to undo each."""
    from .calls import Outcome
    from .models import CallAttempt

    throttled = CallAttempt.Outcome.THROTTLED
    now = at.timestamp()
    client = client_key(ip)
    wait = limits.hit("ip", client, limits.parse_rates(conf.IP_RATE), now)
    if wait is not None:
        return Refusal(Outcome.THROTTLED, throttled, f"rate limit: client address ({conf.IP_RATE})", wait)
    ip_counters = limits.window_keys("ip", client, limits.parse_rates(conf.IP_RATE), now)
    taken.append(lambda: limits.give_back(ip_counters))

    cooldown = cooldown_seconds(line)
    cooldown_key = limits.key("cooldown", line.pk, phone)
    wait = limits.take_cooldown(cooldown_key, cooldown)
    if wait is not None:
        return Refusal(Outcome.THROTTLED, throttled, f"cooldown: the number asked this line within {cooldown} s", wait)
    if cooldown > 0:
        taken.append(lambda: limits.release(cooldown_key))

    wait = limits.hit("phone", phone, limits.parse_rates(conf.PHONE_RATE), now)
    detail = f"rate limit: the number across lines ({conf.PHONE_RATE})"
    if wait is None:
        phone_counters = limits.window_keys("phone", phone, limits.parse_rates(conf.PHONE_RATE), now)
        taken.append(lambda: limits.give_back(phone_counters))
        cap = daily_cap(line)
        wait = limits.count_today("line", line.pk, cap, at)
        detail = f"daily cap: the line placed its {cap} calls today"
    if wait is not None:
        if cooldown > 0:
            limits.release(cooldown_key)
        return Refusal(Outcome.THROTTLED, throttled, detail, wait)
    return None
