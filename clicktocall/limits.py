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


def _count(name: str, timeout: int) -> int:
    store = cache()
    store.add(name, 0, timeout=timeout)
    try:
        return store.incr(name)
    except ValueError:  # expired between add and incr
        store.add(name, 1, timeout=timeout)
        return 1


def hit(kind: str, subject: object, rates: list[Rate]) -> int | None:
    """Count one request of ``subject`` against ``rates`` (fixed windows).

    Returns None when every rate allows it, else the seconds until the window of the
    first exceeded rate ends (the ``Retry-After``).
    """
    now = time.time()
    for rate in rates:
        window = int(now // rate.seconds)
        if _count(key(kind, subject, rate, window), rate.seconds + 1) > rate.count:
            return _retry_after((window + 1) * rate.seconds - now)
    return None


def seconds_until_tomorrow(now: datetime | None = None) -> int:
    """Seconds until the next midnight in the site's time zone."""
    now = timezone.localtime(now)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return _retry_after((midnight - now).total_seconds())


def count_today(kind: str, subject: object, cap: int) -> int | None:
    """Count one request of ``subject`` against a daily ``cap`` (0: no cap).

    Returns None while within the cap, else the seconds until midnight; a refused
    request does not count.
    """
    if cap <= 0:
        return None
    left = seconds_until_tomorrow()
    name = key(kind, subject, timezone.localdate().isoformat())
    if _count(name, left + 60) > cap:
        try:
            cache().decr(name)  # only what was let through counts towards the cap
        except ValueError:
            pass
        return left
    return None


# Every limit of a request in one round trip


@dataclass(frozen=True)
class Count:
    """Count one more against ``limit`` in the counter ``name`` (kept ``timeout`` s).

    Over the limit, the request is refused with ``retry_after``; with ``only_within``
    the refused request does not count (the daily cap), else it does (a rate's window).
    """

    name: str
    limit: int
    timeout: int
    retry_after: int
    only_within: bool = False


@dataclass(frozen=True)
class Hold:
    """Take the cooldown ``name`` for ``seconds``; refused while another request holds it."""

    name: str
    seconds: int


Step = Count | Hold

# KEYS: the steps' keys. ARGV: per step five values: kind ("c" or "h"), limit, timeout,
# retry_after, only_within ("1"/"0"); then the time (seconds). Returns {n, retry_after}:
# the 1-based step that refused (0: none). Refused, the cooldowns taken are released.
TAKE = """
local now = tonumber(ARGV[#ARGV])
local held = {}
for i, key in ipairs(KEYS) do
  local b = (i - 1) * 5
  local kind, limit, timeout = ARGV[b + 1], tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local refused = nil
  if kind == "h" then
    if redis.call("SET", key, string.format("%d", math.ceil(now + timeout)), "NX", "EX", timeout) then
      held[#held + 1] = key
    else
      local ttl = redis.call("TTL", key)
      refused = (ttl > 0) and ttl or timeout
    end
  else
    local count = redis.call("INCR", key)
    if count == 1 then redis.call("EXPIRE", key, timeout) end
    if count > limit then
      if ARGV[b + 5] == "1" then redis.call("DECR", key) end
      refused = tonumber(ARGV[b + 4])
    end
  end
  if refused then
    for _, name in ipairs(held) do redis.call("DEL", name) end
    return {i, refused}
  end
end
return {0, 0}
"""


def rate_steps(kind: str, subject: object, rates: list[Rate], now: float) -> list[Count]:
    """The counts of one request of ``subject`` against ``rates`` (fixed windows), as ``hit`` counts them."""
    steps = []
    for rate in rates:
        window = int(now // rate.seconds)
        retry = _retry_after((window + 1) * rate.seconds - now)
        steps.append(Count(key(kind, subject, rate, window), rate.count, rate.seconds + 1, retry))
    return steps


def cap_step(kind: str, subject: object, cap: int) -> Count:
    """The count of one request of ``subject`` against a daily ``cap``, as ``count_today`` counts it."""
    left = seconds_until_tomorrow()
    return Count(key(kind, subject, timezone.localdate().isoformat()), cap, left + 60, left, only_within=True)


def take(steps: list[Step]) -> tuple[int, int] | None:
    """Take the steps in order, atomically on Redis (one script, one round trip).

    Returns None when every step is taken, else (the index of the step that refused,
    its retry-after). A refused request keeps what the rates before the refusing step
    counted, and holds no cooldown. Other caches take the steps one by one.
    """
    if not steps:
        return None
    store = cache()
    if type(store).__name__ == "RedisCache":
        return _take_on_redis(store, steps)
    held: list[str] = []
    for index, step in enumerate(steps):
        if isinstance(step, Hold):
            wait = take_cooldown(step.name, step.seconds)
            if wait is None:
                held.append(step.name)
                continue
            refused = wait
        else:
            if _count(step.name, step.timeout) <= step.limit:
                continue
            if step.only_within:
                try:
                    store.decr(step.name)
                except ValueError:
                    pass
            refused = step.retry_after
        for name in held:
            release(name)
        return index, refused
    return None


def _take_on_redis(store: BaseCache, steps: list[Step]) -> tuple[int, int] | None:
    keys = [store.make_and_validate_key(step.name) for step in steps]
    args: list[object] = []
    for step in steps:
        if isinstance(step, Hold):
            args += ["h", 0, step.seconds, 0, "0"]
        else:
            args += ["c", step.limit, step.timeout, step.retry_after, "1" if step.only_within else "0"]
    client = store._cache.get_client(keys[0], write=True)
    refused, wait = client.eval(TAKE, len(keys), *keys, *args, repr(time.time()))
    return None if not refused else (int(refused) - 1, int(wait))


def undo(steps: list[Step]) -> None:
    """Give back steps a request took (its call will not happen): counts go down, cooldowns end."""
    store = cache()
    if type(store).__name__ == "RedisCache" and steps:
        keys = [store.make_and_validate_key(step.name) for step in steps]
        pipe = store._cache.get_client(keys[0], write=True).pipeline(transaction=False)
        for step, name in zip(steps, keys, strict=True):
            if isinstance(step, Hold):
                pipe.delete(name)
            else:
                pipe.eval(GIVE_BACK, 1, name)
        pipe.execute()
        return
    for step in steps:
        if isinstance(step, Hold):
            release(step.name)
            continue
        try:
            if (store.get(step.name) or 0) > 0:
                store.decr(step.name)
        except ValueError:
            pass


GIVE_BACK = "if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end"
