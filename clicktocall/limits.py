"""Cooldowns, rate limits and daily caps kept in Django's cache framework.

Every operation is atomic on the cache server: a cooldown is taken with ``cache.add``
(``SET NX`` on Redis, an insert guarded by the primary key on the database cache), and
counters grow with ``cache.incr`` (``INCR`` on Redis). Nothing here reads and then
writes, so several server processes sharing one cache agree on every limit. The local
memory cache, the development default, holds each process's own limits only.

Keys are hashed: the cache never stores a phone number or an address in clear.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import BaseCache, caches
from django.utils import timezone

from .conf import conf

PREFIX = "clicktocall"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*$", re.IGNORECASE)
OFF = {"", "0", "off", "none", "no", "false"}


@dataclass(frozen=True)
class Rate:
    """``count`` requests per ``seconds``."""

    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


def parse_rates(text: str) -> list[Rate]:
    """Parse ``"5/m"``, ``"6/h,20/d"`` or ``"3/30s"``; empty, ``0`` or ``off`` mean no limit.

    Raises ``ValueError`` on anything else.
    """
    text = (text or "").strip()
    if text.lower() in OFF:
        return []
    rates = []
    for part in text.split(","):
        match = RATE_RE.match(part)
        if not match:
            raise ValueError(f"not a rate: {part.strip()!r} (write e.g. 5/m, 10/h or 3/30s)")
        count, multiple, unit = int(match[1]), int(match[2] or 1), match[3].lower()
        if count <= 0 or multiple <= 0:
            raise ValueError(f"not a rate: {part.strip()!r} (the numbers must be positive)")
        rates.append(Rate(count, multiple * UNITS[unit]))
    return rates


def cache() -> BaseCache:
    return caches[conf.CACHE]


def key(kind: str, *parts: object) -> str:
    """A cache key for ``kind`` that does not reveal the numbers or addresses it is about."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f"{PREFIX}:{kind}:{digest}"


def _retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def take_cooldown(name: str, seconds: int) -> int | None:
    """Start a cooldown called ``name``: None when taken, else the seconds left on it.

    Atomic: of many simultaneous callers in any number of processes, exactly one takes it.
    """
    if seconds <= 0:
        return None
    store = cache()
    until = time.time() + seconds
    if store.add(name, until, timeout=seconds):
        return None
    held_until = store.get(name)
    if not isinstance(held_until, (int, float)):
        return seconds
    return _retry_after(held_until - time.time())


def release(name: str) -> None:
    """End a cooldown taken by this request (when a later limit refused it)."""
    cache().delete(name)


def give_back(names: list[str]) -> None:
    """Take one count off each of the counters ``names``: a request that did not happen."""
    store = cache()
    for name in names:
        try:
            store.decr(name)
        except ValueError:  # expired meanwhile: nothing left to give back
            pass


def _count(name: str, timeout: int) -> int:
    store = cache()
    store.add(name, 0, timeout=timeout)
    try:
        return store.incr(name)
    except ValueError:  # expired between add and incr
        store.add(name, 1, timeout=timeout)
        return 1


def window_keys(kind: str, subject: object, rates: list[Rate], now: float) -> list[str]:
    """The counters of ``subject``'s windows of ``rates`` at the time ``now``."""
    return [key(kind, subject, rate, int(now // rate.seconds)) for rate in rates]


def hit(kind: str, subject: object, rates: list[Rate], now: float | None = None) -> int | None:
    """Count one request of ``subject`` against ``rates`` (fixed windows).

    Returns None when every rate allows it, else the seconds until the window of the
    first exceeded rate ends (the ``Retry-After``).
    """
    now = time.time() if now is None else now
    for rate, name in zip(rates, window_keys(kind, subject, rates, now), strict=True):
        if _count(name, rate.seconds + 1) > rate.count:
            return _retry_after((int(now // rate.seconds) + 1) * rate.seconds - now)
    return None


def seconds_until_tomorrow(now: datetime | None = None) -> int:
    """Seconds until the next midnight in the site's time zone."""
    now = timezone.localtime(now)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return _retry_after((midnight - now).total_seconds())


def today_key(kind: str, subject: object, now: datetime | None = None) -> str:
    """The counter of ``subject``'s day (the site's time zone) at the time ``now``."""
    return key(kind, subject, timezone.localdate(now).isoformat())


def count_today(kind: str, subject: object, cap: int, now: datetime | None = None) -> int | None:
    """Count one request of ``subject`` against a daily ``cap`` (0: no cap).

    Returns None while within the cap, else the seconds until midnight; a refused
    request does not count.
    """
    if cap <= 0:
        return None
    left = seconds_until_tomorrow(now)
    name = today_key(kind, subject, now)
    if _count(name, left + 60) > cap:
        give_back([name])  # only what was let through counts towards the cap
        return left
    return None
