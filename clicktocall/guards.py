"""Limits and refusals applied to a valid request before a call is placed.

In order: the client's network on the blocklist, the rate per client network (an
address for IPv4, a /64 for IPv6), the cooldown of one number on one line, the rate per
number across all lines, and the line's daily cap; then the number's own blocklist
entry, which the attempt's INSERT checks (``blocklist.mark_if_blocked``): a blocked
number gives back what it took (``give_back``). The blocked networks are kept with the
line (``lines``), and every rate, the cooldown and the daily cap are taken together in
the limit store (``limits.take``: one script on Redis, the cache when it is Redis or
Memcached, else the database). A refusal may query more.

Also here: which destinations a line may call (``destination_problem()``), the guard
against toll fraud.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import phonenumbers
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


def release_cooldown(line: CampaignLine, phone: str) -> None:
    """End the cooldown of ``phone`` on ``line``: the provider placed no call, a retry is fair."""
    try:
        limits.release(limits.key("cooldown", line.pk, phone))
    except Exception:  # the cache being down must not hide the provider's failure
        logger.exception("could not release the cooldown of line %s", line.pk)


def _steps(line: CampaignLine, phone: str, ip: str | None, now: float) -> tuple[list[limits.Step], list[str]]:
    """What one request takes, in order, and why each step would refuse it."""
    ip_rates, phone_rates = limits.parse_rates(conf.IP_RATE), limits.parse_rates(conf.PHONE_RATE)
    cooldown, cap = cooldown_seconds(line), daily_cap(line)
    details: list[str] = []
    steps: list[limits.Step] = []
    # A client is its network (an IPv6 /64); requests whose address is unknown (a
    # misconfigured proxy) share one allowance.
    for step in limits.rate_steps("ip", clients.client_key(ip) or "unknown", ip_rates, now):
        steps.append(step)
        details.append(f"rate limit: client address ({conf.IP_RATE})")
    if cooldown > 0:
        steps.append(limits.Hold(limits.key("cooldown", line.pk, phone), cooldown))
        details.append(f"cooldown: the number asked this line within {cooldown} s")
    for step in limits.rate_steps("phone", phone, phone_rates, now):
        steps.append(step)
        details.append(f"rate limit: the number across lines ({conf.PHONE_RATE})")
    if cap > 0:
        steps.append(limits.cap_step("line", line.pk, cap))
        details.append(f"daily cap: the line placed its {cap} calls today")
    return steps, details


def give_back(line: CampaignLine, phone: str, ip: str | None) -> None:
    """Give back everything an accepted request took: its call will not happen (its number is blocked)."""
    try:
        limits.undo(_steps(line, phone, ip, time.time())[0])
    except Exception:  # the cache being down must not hide why the call did not happen
        logger.exception("could not give back the limits taken for line %s", line.pk)


def refusal(line: CampaignLine, params: Any, meta: Any, turn: limits.Turn | None = None) -> Refusal | None:
    """The first limit the request runs into, or None when the call may be placed.

    With ``turn``, the request also takes its turn in the queue's pace, together with its
    limits; when the turn is too far away the request is refused as busy and gives back
    everything it took.
    """
    from .calls import Outcome
    from .models import CallAttempt

    blocked, throttled = CallAttempt.Outcome.BLOCKED, CallAttempt.Outcome.THROTTLED
    phone, ip = params.phone, meta.client_ip

    entry = blocklist.network_entry(ip, getattr(line, "blocked_networks", None))  # kept with the line
    if entry is not None:
        blocklist.record_hit(entry)
        return Refusal(Outcome.ERROR, blocked, f"blocklist: the address {ip} is blocked")

    steps, details = _steps(line, phone, ip, time.time())
    if turn is not None:
        steps.append(turn)
    refused = limits.take(steps)
    if refused is None:
        return None
    index, wait = refused
    if index == len(details):  # the turn
        detail = f"busy: the calls ahead take over {turn.longest:g} s at {conf.PROVIDER_CPS:g} a second"
        return Refusal(Outcome.ERROR, CallAttempt.Outcome.BUSY, detail, wait)
    return Refusal(Outcome.THROTTLED, throttled, details[index], wait)
