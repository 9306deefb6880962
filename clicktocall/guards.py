"""Limits and refusals applied to a valid request before a call is placed.

In order: the client's network on the blocklist, the rate per client network (an
address for IPv4, a /64 for IPv6), the cooldown of one number on one line, the rate per
number across all lines, and the line's daily cap; then the number's own blocklist
entry, which the attempt's INSERT checks (``blocklist.mark_if_blocked``): a blocked
number gives back what it took. The blocked networks are kept with the line
(``lines``), and every rate, the cooldown and the daily cap (and, queued, the request's
turn in the queue) are taken together by the limit store (``limits.take``: one script
on Redis; the store is the cache when it is Redis or Memcached, else the database).

A request whose call does not happen gives back what it took (``give_back()``), and the
refused requests of one address keep their details only up to an hourly share
(``keeps_details()``).

Also here: which destinations a line may call (``destination_problem()``), the guard
against toll fraud.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import phonenumbers
from phonenumbers import PhoneNumberType

from . import blocklist, clients, limits, lines
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


def keeps_details(client_ip: str | None, line: CampaignLine | None = None) -> bool:
    """Whether a refused request from ``client_ip`` may store its details: the first
    ``CLICKTOCALL_REFUSED_RECORDS_PER_HOUR`` of an address in an hour may, later ones store
    a minimal record. With the cache down, records are minimal. The count checks the
    version of the ``line`` found unchecked (``lines.find``), or raises ``limits.StaleVersion``."""
    per_hour = conf.REFUSED_RECORDS_PER_HOUR
    version = getattr(line, "kept_version", None)
    if per_hour <= 0:
        if version is not None:
            lines.check(line)
        return False
    try:
        counts = limits.rate_steps("refused", client_key(client_ip), [limits.Rate(per_hour, 3600)], time.time())
        return limits.take(counts, version).refused is None  # one round trip on Redis
    except limits.StaleVersion:
        raise
    except Exception as exc:
        if version is not None:  # the line was not checked: start again with lines that are
            raise limits.StaleVersion(version.key) from exc
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


def _steps(line: CampaignLine, phone: str, ip: str | None, at: datetime) -> list[limits.Step]:
    """What one request takes, in order (``_refused_by`` tells why a step would refuse it)."""
    now = at.timestamp()
    steps: list[limits.Step] = limits.rate_steps("ip", client_key(ip), _rates(conf.IP_RATE), now)
    cooldown = cooldown_seconds(line)
    if cooldown > 0:
        steps.append(limits.Hold(limits.key("cooldown", line.pk, phone), cooldown))
    steps += limits.rate_steps("phone", phone, _rates(conf.PHONE_RATE), now)
    cap = daily_cap(line)
    if cap > 0:
        steps.append(limits.cap_step("line", line.pk, cap, at))
    return steps


def _refused_by(line: CampaignLine, step: limits.Step) -> str:
    """Why a step of ``_steps`` refused the request, by the kind of limit its key is of."""
    kind = step.name.split(":")[1]
    if kind == "ip":
        return f"rate limit: client address ({conf.IP_RATE})"
    if kind == "cooldown":
        return f"cooldown: the number asked this line within {cooldown_seconds(line)} s"
    if kind == "phone":
        return f"rate limit: the number across lines ({conf.PHONE_RATE})"
    return f"daily cap: the line placed its {daily_cap(line)} calls today"


def admit(line: CampaignLine, params: Any, meta: Any, at: datetime, turn: limits.Turn | None = None) -> Refusal | float:
    """The first limit the request runs into (a ``Refusal``), or the seconds until its turn
    (``0.0`` without one) when the call may be placed.

    The limits are taken at the time ``at``, together (``limits.take``). With ``turn``,
    the request also takes its turn in that pace (the queue's, or the provider's); when
    the turn is too far away the request is refused as busy and gives back everything it
    took. When the store that keeps the limits cannot be reached, the request is refused
    (``error``) with nothing taken: no call is placed without its limits.
    """
    from .calls import Outcome
    from .models import CallAttempt

    ip = meta.client_ip
    try:
        entry = blocklist.network_entry(ip, getattr(line, "blocked_networks", None))  # kept with the line
        if entry is not None:
            lines.check(line)  # the entry is current before its hit is counted
            blocklist.record_hit(entry)
            return Refusal(Outcome.ERROR, CallAttempt.Outcome.BLOCKED, f"blocklist: the address {ip} is blocked")
        steps = _steps(line, params.phone, ip, at)
        if turn is not None:
            steps.append(turn)
        taken = limits.take(steps, getattr(line, "kept_version", None))
    except limits.StaleVersion:
        raise
    except Exception as exc:
        version = getattr(line, "kept_version", None)
        if version is not None:  # the line was not checked: start again with lines that are
            raise limits.StaleVersion(version.key) from exc
        logger.exception("line %s: the limits could not be applied", line.pk)
        return Refusal(Outcome.ERROR, CallAttempt.Outcome.ERROR, f"limits unavailable: {exc.__class__.__name__}")
    if taken.refused is None:
        return taken.wait
    refused_by = steps[taken.refused]
    if refused_by is turn:
        detail = f"busy: the calls ahead take over {turn.longest:g} s at {conf.PROVIDER_CPS:g} a second"
        return Refusal(Outcome.ERROR, CallAttempt.Outcome.BUSY, detail, taken.retry_after)
    return Refusal(Outcome.THROTTLED, CallAttempt.Outcome.THROTTLED, _refused_by(line, refused_by), taken.retry_after)
