"""Cooldowns, rate limits and daily caps, shared by every server process.

Two stores keep them, behind one small interface (``LimitStore``: take a cooldown,
hit rates, count a daily cap, release a cooldown):

- ``CacheStore``: a cache whose ``add`` and ``incr`` are atomic on a server that all
  processes share (Redis, Memcached). ``add`` is ``SET NX``, ``incr`` is ``INCR``.
- ``DatabaseStore``: the ``LimitCounter`` table, each operation one atomic statement:
  an insert that, on conflict with the existing row, takes it over when it has expired
  (a cooldown) or adds one to it (a counter), and returns the result. PostgreSQL locks
  the row; SQLite serializes writers.

``CLICKTOCALL_LIMIT_STORE = "auto"`` (the default) takes the cache when it is one of
those shared servers and the database otherwise, so a per-process cache (local memory)
or a cache whose ``incr`` reads and then writes (Django's database and file caches)
never holds a limit. Redis is a speed-up, never a condition for correctness.

Keys are hashed: neither store keeps a phone number or an address in clear.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import connections, router
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
    return list(_parsed_rates(text or ""))


@functools.lru_cache(maxsize=64)
def _parsed_rates(text: str) -> tuple[Rate, ...]:
    text = text.strip()
    if text.lower() in OFF:
        return ()
    rates = []
    for part in text.split(","):
        match = RATE_RE.match(part)
        if not match:
            raise ValueError(f"not a rate: {part.strip()!r} (write e.g. 5/m, 10/h or 3/30s)")
        count, multiple, unit = int(match[1]), int(match[2] or 1), match[3].lower()
        if count <= 0 or multiple <= 0:
            raise ValueError(f"not a rate: {part.strip()!r} (the numbers must be positive)")
        rates.append(Rate(count, multiple * UNITS[unit]))
    return tuple(rates)


def cache() -> BaseCache:
    return caches[conf.CACHE]


def redis_client(store: BaseCache | None = None):
    """The Redis client of ``store`` (default: the limits' cache), or None when it is not Django's Redis cache.

    Kept with the cache's own client (one per thread), on the cache's connection pool:
    Django's cache methods build a new client object for every operation.
    """
    store = cache() if store is None else store
    if type(store).__name__ != "RedisCache":
        return None
    backend = store._cache
    client = backend.__dict__.get("_clicktocall_client")
    if client is None:
        client = backend.__dict__["_clicktocall_client"] = backend.get_client(write=True)
    return client


def run_script(client, script: str, keys: list[str], args: list[object]) -> object:
    """Run the Lua ``script`` by its digest (``EVALSHA``): its text crosses the network once per server.

    The command is packed here and sent on a connection of the client's pool, with the
    client's own parser reading the reply (see ``_command``): redis-py's command layer
    costs more than the round trip itself for a script with a dozen keys.
    """
    from redis.exceptions import NoScriptError

    digest = _digests.get(script)
    if digest is None:
        digest = _digests[script] = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
    command = _pack(("EVALSHA", digest, len(keys), *keys, *args))
    try:
        return _command(client, command)
    except NoScriptError:  # a new or restarted server: load it, once
        client.script_load(script)
        return _command(client, command)


def _pack(args: tuple) -> bytes:
    """A command in the Redis protocol (RESP): an array of bulk strings (text as UTF-8)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


def _command(client, command: bytes) -> object:
    """Send one packed command on a connection of ``client``'s pool and read its reply.

    As redis-py does for a command: a connection that fails (e.g. closed by a restarted
    server) is dropped and the command sent once more on a new one; an error reply is raised.
    """
    from redis.exceptions import ConnectionError as RedisConnectionError

    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        try:
            connection.send_packed_command([command])
            return connection.read_response()
        except RedisConnectionError:
            connection.disconnect()
            connection.send_packed_command([command])
            return connection.read_response()
    finally:
        pool.release(connection)


_digests: dict[str, str] = {}


def cache_get_raw(name: str) -> object:
    """The value of ``name`` as the cache holds it: its stored bytes on Redis (one round trip, nothing
    decoded), else ``cache().get(name)``. For a value compared, never read, such as a version."""
    store = cache()
    client = redis_client(store)
    if client is None:
        return store.get(name)
    return client.get(store.make_key(name))


def key(kind: str, *parts: object) -> str:
    """A key for ``kind`` that does not reveal the numbers or addresses it is about."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f"{PREFIX}:{kind}:{digest}"


def _retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def window_keys(kind: str, subject: object, rates: list[Rate], now: float) -> list[str]:
    """The counters of ``subject``'s windows of ``rates`` at the time ``now``."""
    return [key(kind, subject, rate, int(now // rate.seconds)) for rate in rates]


def today_key(kind: str, subject: object, now: datetime | None = None) -> str:
    """The counter of ``subject``'s day (the site's time zone) at the time ``now``."""
    return key(kind, subject, _day(now)[2])


def seconds_until_tomorrow(now: datetime | None = None) -> int:
    """Seconds until the next midnight in the site's time zone."""
    at = now.timestamp() if now is not None else time.time()
    return _retry_after(_day(now, at)[1] - at)


def _day(now: datetime | None, at: float | None = None) -> tuple[float, float, str]:
    """The day of the site's time zone at ``now``: its first and next day's first
    timestamps, and its date (ISO); kept while the time stays within it."""
    zone = timezone.get_current_timezone()
    if at is None:
        at = now.timestamp() if now is not None else time.time()
    day = _days.get(zone)
    if day is None or not day[0] <= at < day[1]:
        date = datetime.fromtimestamp(at, zone).date()
        start = datetime.combine(date, datetime.min.time(), tzinfo=zone).timestamp()
        end = datetime.combine(date + timedelta(days=1), datetime.min.time(), tzinfo=zone).timestamp()
        day = _days[zone] = (start, end, date.isoformat())
    return day


_days: dict[object, tuple[float, float, str]] = {}


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


@dataclass(frozen=True)
class Turn:
    """Take the next turn of the pace ``name`` (see ``pacing``), ``interval`` s after the one
    before; refused when it is more than ``longest`` s away (``< 0``: never), and then every
    step taken before it is given back: the request did not happen."""

    name: str
    interval: float
    longest: float


Step = Count | Hold | Turn


class StaleVersion(Exception):  # noqa: N818 - a state, not a failure
    """The version a request was checked against has changed: nothing was taken; start again."""


@dataclass(frozen=True)
class Version:
    """A value the request's limits are taken against: the script takes nothing unless the
    cache's ``key`` still holds ``value`` (as stored), and ``take`` raises ``StaleVersion``."""

    key: str
    value: object


@dataclass(frozen=True)
class Taken:
    """What ``take`` did: refused at the step ``refused`` (its index) with ``retry_after``
    seconds, or (``refused`` None) took every step, the request's turn ``wait`` seconds away
    (0 without a turn)."""

    refused: int | None = None
    retry_after: int = 0
    wait: float = 0.0


# KEYS: the steps' keys, then a version's key. ARGV: per step five values: kind ("c", "h"
# or "t"), limit (a turn's interval), timeout (a turn's longest wait), retry_after,
# only_within ("1"/"0"); then the time (seconds) and the version expected ("": none).
# Returns {n, retry_after}: the 1-based step that refused; {0, wait} when every step was
# taken, wait (text) the seconds until the turn taken; {-1, 0}, with nothing taken, when
# the version is not the one expected. Refused, the cooldowns taken are released;
# refused at a turn, the counts too.
TAKE = """
local expected = ARGV[#ARGV]
if expected ~= "" and redis.call("GET", KEYS[#KEYS]) ~= expected then
  return {-1, 0}
end
local now = tonumber(ARGV[#ARGV - 1])
local held, counted = {}, {}
local waited = 0
for i = 1, #KEYS - 1 do
  local key = KEYS[i]
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
  elseif kind == "t" then
    local t = redis.call("TIME")
    local at = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local slot = math.max(at, tonumber(redis.call("GET", key) or "0"))
    local wait = slot - at
    if timeout >= 0 and wait > timeout then
      for _, name in ipairs(counted) do redis.call("DECR", name) end
      refused = math.max(1, math.ceil(wait - timeout))
    else
      redis.call("SET", key, tostring(slot + limit), "PX", math.ceil((wait + limit) * 1000) + 60000)
      waited = wait
    end
  else
    local count = redis.call("INCR", key)
    if count == 1 then redis.call("EXPIRE", key, timeout) end
    if count > limit then
      if ARGV[b + 5] == "1" then redis.call("DECR", key) end
      refused = tonumber(ARGV[b + 4])
    else
      counted[#counted + 1] = key
    end
  end
  if refused then
    for _, name in ipairs(held) do redis.call("DEL", name) end
    return {i, refused}
  end
end
return {0, tostring(waited)}
"""
GIVE_BACK = "if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end"


def rate_steps(kind: str, subject: object, rates: list[Rate], now: float) -> list[Count]:
    """The counts of one request of ``subject`` against ``rates`` (fixed windows), as ``hit`` counts them."""
    names = window_keys(kind, subject, rates, now)
    return [
        Count(name, rate.count, rate.seconds + 1, _retry_after((int(now // rate.seconds) + 1) * rate.seconds - now))
        for name, rate in zip(names, rates, strict=True)
    ]


def cap_step(kind: str, subject: object, cap: int, at: datetime | None = None) -> Count:
    """The count of one request of ``subject`` against a daily ``cap``, as ``count_today`` counts it."""
    left = seconds_until_tomorrow(at)
    return Count(today_key(kind, subject, at), cap, left + 60, left, only_within=True)


class LimitStore:
    """Where the limits live. Each operation is atomic across processes.

    A store implements four primitives (``_add``, ``_incr``, ``_decr``, ``_delete``);
    the operations the guards use are built on them here. A store may override an
    operation to do it in fewer round trips.
    """

    def take_cooldown(self, name: str, seconds: int) -> int | None:
        """Start a cooldown called ``name``: None when taken, else the seconds left on it.

        Of many simultaneous callers in any number of processes, exactly one takes it.
        """
        if seconds <= 0:
            return None
        now = time.time()
        taken, held_until = self._add(name, now + seconds, now)
        if taken:
            return None
        return _retry_after(held_until - now) if held_until is not None else seconds

    def release(self, name: str) -> None:
        """End a cooldown taken by this request (a later limit refused it, or no call was placed)."""
        self._delete(name)

    def hit(self, kind: str, subject: object, rates: list[Rate], now: float | None = None) -> int | None:
        """Count one request of ``subject`` against ``rates`` (fixed windows) at the time ``now``.

        Returns None when every rate allows it, else the seconds until the window of the
        first exceeded rate ends (the ``Retry-After``).
        """
        now = time.time() if now is None else now
        for rate, name in zip(rates, window_keys(kind, subject, rates, now), strict=True):
            end = (int(now // rate.seconds) + 1) * rate.seconds
            if self._incr(name, end + 1, now) > rate.count:
                return _retry_after(end - now)
        return None

    def give_back(self, names: list[str]) -> None:
        """Take one count off each of the counters ``names``: a request that did not happen."""
        for name in names:
            self._decr(name)

    def count_today(self, kind: str, subject: object, cap: int, at: datetime | None = None) -> int | None:
        """Count one request of ``subject`` against a daily ``cap`` (0: no cap) at the time ``at``.

        Returns None while within the cap, else the seconds until midnight; a refused
        request does not count.
        """
        if cap <= 0:
            return None
        at = at or timezone.now()
        left = seconds_until_tomorrow(at)
        now = at.timestamp()
        name = today_key(kind, subject, at)
        if self._incr(name, now + left + 60, now) > cap:
            self._decr(name)  # only what was let through counts towards the cap
            return left
        return None

    def take(self, steps: list[Step], version: Version | None = None) -> Taken:
        """Take a request's steps in order; the result says which step refused, if any, or
        how long until the turn taken. A store that cannot check ``version`` with the steps
        (``checks_versions`` False) ignores it: the caller checked it before.

        A refused request keeps what the rates before the refusing step counted, holds no
        cooldown, and counts nothing after it (nor against a daily cap); refused at a turn,
        it gives back its counts too. Here the steps are taken one by one (and given back
        when one fails); a store may take them all at once.
        """
        now = time.time()
        held: list[Step] = []
        counted: list[Step] = []
        turn_wait = 0.0
        try:
            for index, step in enumerate(steps):
                if isinstance(step, Turn):
                    from . import pacing

                    turn = pacing.take_turn(step.name, None if step.longest < 0 else step.longest)
                    if turn.taken:
                        turn_wait = turn.wait
                        continue
                    self.undo(counted)
                    refused = turn.retry_after(step.longest)
                elif isinstance(step, Hold):
                    wait = self.take_cooldown(step.name, step.seconds)
                    if wait is None:
                        held.append(step)
                        continue
                    refused = wait
                else:
                    if self._incr(step.name, now + step.timeout, now) <= step.limit:
                        counted.append(step)
                        continue
                    if step.only_within:
                        self._decr(step.name)
                    refused = step.retry_after
                self.undo(held)
                return Taken(index, refused)
        except Exception:
            self.undo(held + counted)
            raise
        return Taken(wait=turn_wait)

    def undo(self, steps: list[Step]) -> None:
        """Give back steps a request took (its call will not happen): counts go down, cooldowns end."""
        for step in steps:
            if isinstance(step, Hold):
                self._delete(step.name)
            elif isinstance(step, Count):
                self._decr(step.name)

    # Primitives

    def _add(self, name: str, until: float, now: float) -> tuple[bool, float | None]:
        """Hold ``name`` until ``until`` unless it is held: (taken, until when it is held)."""
        raise NotImplementedError

    def _incr(self, name: str, expires: float, now: float) -> int:
        """Add one to the counter ``name`` (0 when absent or expired, then kept until ``expires``)."""
        raise NotImplementedError

    def _decr(self, name: str) -> None:
        raise NotImplementedError

    def _delete(self, name: str) -> None:
        raise NotImplementedError


class CacheStore(LimitStore):
    """Limits in ``CLICKTOCALL_CACHE``: atomic when that cache is Redis or Memcached.

    On Redis a request's steps are taken by one script (``TAKE``): one round trip.
    """

    def _redis(self) -> BaseCache | None:
        store = cache()
        return store if redis_client(store) is not None else None

    def take(self, steps: list[Step], version: Version | None = None) -> Taken:
        store = self._redis()
        if store is None or not (steps or version):
            return super().take(steps)
        keys = [store.make_key(step.name) for step in steps]  # the names are ASCII, hashed: valid
        keys.append(store.make_key(version.key if version is not None else steps[0].name))
        args: list[object] = []
        for step in steps:
            if isinstance(step, Turn):
                args += ["t", repr(step.interval), repr(step.longest), 0, "0"]
            elif isinstance(step, Hold):
                args += ["h", 0, step.seconds, 0, "0"]
            else:
                args += ["c", step.limit, step.timeout, step.retry_after, "1" if step.only_within else "0"]
        client = redis_client(store)
        expected = version.value if version is not None and version.value is not None else ""
        refused, value = run_script(client, TAKE, keys, [*args, repr(time.time()), expected])
        if refused == -1:
            raise StaleVersion(version.key)
        if refused:
            return Taken(int(refused) - 1, int(value))
        return Taken(wait=max(0.0, float(value)))

    def undo(self, steps: list[Step]) -> None:
        store = self._redis()
        if store is None or not steps:
            return super().undo(steps)
        keys = [store.make_key(step.name) for step in steps]  # the names are ASCII, hashed: valid
        pipe = redis_client(store).pipeline(transaction=False)
        for step, name in zip(steps, keys, strict=True):
            if isinstance(step, Hold):
                pipe.delete(name)
            elif isinstance(step, Count):
                pipe.eval(GIVE_BACK, 1, name)
        pipe.execute()

    def _add(self, name: str, until: float, now: float) -> tuple[bool, float | None]:
        store = cache()
        if store.add(name, until, timeout=_retry_after(until - now)):
            return True, None
        held_until = store.get(name)
        return False, held_until if isinstance(held_until, (int, float)) else None

    def _incr(self, name: str, expires: float, now: float) -> int:
        store, timeout = cache(), _retry_after(expires - now)
        store.add(name, 0, timeout=timeout)
        try:
            return store.incr(name)
        except ValueError:  # expired between add and incr
            store.add(name, 1, timeout=timeout)
            return 1

    def _decr(self, name: str) -> None:
        try:
            cache().decr(name)
        except ValueError:
            pass

    def _delete(self, name: str) -> None:
        cache().delete(name)


class DatabaseStore(LimitStore):
    """Limits in the ``LimitCounter`` table: one atomic statement per operation.

    Written for PostgreSQL and SQLite (``INSERT … ON CONFLICT … DO UPDATE … RETURNING``).
    Expired rows are deleted now and then by the requests themselves.
    """

    PURGE_CHANCE = 0.001

    def _sql(self, sql: str, params: list) -> list[tuple]:
        from .models import LimitCounter

        connection = connections[router.db_for_write(LimitCounter)]
        table = connection.ops.quote_name(LimitCounter._meta.db_table)
        key_, count, expires = (connection.ops.quote_name(c) for c in ("key", "count", "expires"))
        with connection.cursor() as cursor:
            cursor.execute(sql.format(t=table, key=key_, count=count, expires=expires), params)
            return cursor.fetchall() if cursor.description else []

    def _maybe_purge(self, now: float) -> None:
        if random.random() < self.PURGE_CHANCE:
            self.purge(now)

    def purge(self, now: float | None = None) -> None:
        """Delete the rows that have expired."""
        self._sql("DELETE FROM {t} WHERE {expires} <= %s", [time.time() if now is None else now])

    def _add(self, name: str, until: float, now: float) -> tuple[bool, float | None]:
        self._maybe_purge(now)
        taken = self._sql(
            "INSERT INTO {t} ({key}, {count}, {expires}) VALUES (%s, 1, %s) "
            "ON CONFLICT ({key}) DO UPDATE SET {count} = 1, {expires} = EXCLUDED.{expires} "
            "WHERE {t}.{expires} <= %s RETURNING {expires}",
            [name, until, now],
        )
        if taken:
            return True, None
        held = self._sql("SELECT {expires} FROM {t} WHERE {key} = %s", [name])
        return False, held[0][0] if held else None

    def _incr(self, name: str, expires: float, now: float) -> int:
        self._maybe_purge(now)
        rows = self._sql(
            "INSERT INTO {t} ({key}, {count}, {expires}) VALUES (%s, 1, %s) "
            "ON CONFLICT ({key}) DO UPDATE SET "
            "{count} = CASE WHEN {t}.{expires} <= %s THEN 1 ELSE {t}.{count} + 1 END, "
            "{expires} = CASE WHEN {t}.{expires} <= %s THEN EXCLUDED.{expires} ELSE {t}.{expires} END "
            "RETURNING {count}",
            [name, expires, now, now],
        )
        return rows[0][0]

    def _decr(self, name: str) -> None:
        self._sql("UPDATE {t} SET {count} = {count} - 1 WHERE {key} = %s AND {count} > 0", [name])

    def _delete(self, name: str) -> None:
        self._sql("DELETE FROM {t} WHERE {key} = %s", [name])


STORES = {"cache": CacheStore, "database": DatabaseStore}
# Caches whose add and incr are atomic on a server every process shares.
SHARED_CACHES = (
    "django.core.cache.backends.redis.",
    "django.core.cache.backends.memcached.",
    "django_redis.",
)
DATABASE_VENDORS = ("postgresql", "sqlite")


def cache_backend(alias: str | None = None) -> str:
    """The dotted path of the cache ``alias`` (default: ``CLICKTOCALL_CACHE``), or ""."""
    config = getattr(settings, "CACHES", {}).get(alias or conf.CACHE)
    return str(config.get("BACKEND", "")) if isinstance(config, dict) else ""


def cache_is_shared(alias: str | None = None) -> bool:
    """Whether the cache is one server, shared by every process, with atomic ``add`` and ``incr``."""
    return cache_backend(alias).startswith(SHARED_CACHES)


def store_name() -> str:
    """``cache`` or ``database``: where the limits live under the current settings."""
    choice = conf.LIMIT_STORE
    if choice in STORES:
        return choice
    return "cache" if cache_is_shared() else "database"


def store() -> LimitStore:
    return STORES[store_name()]()


def take_cooldown(name: str, seconds: int) -> int | None:
    return store().take_cooldown(name, seconds)


def release(name: str) -> None:
    store().release(name)


def hit(kind: str, subject: object, rates: list[Rate], now: float | None = None) -> int | None:
    return store().hit(kind, subject, rates, now)


def count_today(kind: str, subject: object, cap: int, at: datetime | None = None) -> int | None:
    return store().count_today(kind, subject, cap, at)


def give_back(names: list[str]) -> None:
    store().give_back(names)


def take(steps: list[Step], version: Version | None = None) -> Taken:
    return store().take(steps, version)


def checks_versions() -> bool:
    """Whether ``take`` checks a ``Version`` in the same round trip (limits in Redis), so that
    a caller need not read it before."""
    return store_name() == "cache" and redis_client() is not None


def undo(steps: list[Step]) -> None:
    store().undo(steps)
