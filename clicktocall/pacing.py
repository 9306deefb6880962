"""Placing calls at the pace the provider account allows, shared by every worker on every host.

A provider places at most so many calls a second per account (Twilio: 1 unless raised)
and queues or refuses the rest. ``CLICKTOCALL_PROVIDER_CPS`` says how many; the calls
are spaced by ``1 / CPS`` seconds whatever process places them, so the provider never
queues or refuses a call because of us. ``0`` turns pacing off.

A pace is a shared schedule: the time its next call may go. Taking a turn moves that
time on by one interval, atomically, and says how long to wait for the turn. It lives in
Redis when the limits' cache is Redis (one Lua script, on Redis's clock), else in the
database (``PaceState``, one ``UPDATE … RETURNING``).

Two paces are kept:

- ``queue``, taken by each accepted request with queued placement: its wait is how long
  the queue ahead of the request takes at the paced rate. When that exceeds
  ``CLICKTOCALL_MAX_QUEUE_WAIT`` (0: no maximum) the request is refused as busy
  (nothing is taken).
- ``provider``, taken right before each call is handed to the provider: the worker (or,
  with direct placement, the request, which takes it with its limits, for at most
  ``DIRECT_MAX_WAIT`` seconds) waits for its turn. A queued call that has waited clearly
  longer than ``CLICKTOCALL_MAX_QUEUE_WAIT`` since its request (``expires_after``: a
  tenth more, at least 5 s) is not placed (``expired``): the visitor has left.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.db import connections, router

from . import limits
from .conf import conf
from .models import PaceState

QUEUE = "queue"
PROVIDER = "provider"
# Calls are spaced this much wider than 1 / CPS: the time from a turn to the provider's
# receiving the call varies by some milliseconds, and no two calls may arrive closer
# than the account allows (50 ms of slack in any one-second window).
MARGIN = 1.05
DIRECT_MAX_WAIT = 5.0  # seconds a visitor's request may wait for its turn with direct placement
EXPIRY_SLACK = 5.0  # seconds; at least this past the maximum wait before a queued call is given up
WARN_SHARE = 0.8  # the admin warns when the expected wait reaches this share of the maximum

# KEYS[1]: the pace; ARGV: interval, longest wait (< 0: any). Returns {taken, wait} (wait as text).
TAKE_TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local wait = slot - now
local longest = tonumber(ARGV[2])
if longest >= 0 and wait > longest then
  return {0, tostring(wait)}
end
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', math.ceil((wait + interval) * 1000) + 60000)
return {1, tostring(wait)}
"""


@dataclass(frozen=True)
class Turn:
    """A turn taken (``taken``) or refused, and the seconds until it comes (or would come)."""

    taken: bool
    wait: float

    def retry_after(self, longest: float) -> int:
        """Seconds until a turn would come within ``longest`` seconds."""
        return max(1, math.ceil(self.wait - longest))


def max_wait() -> float | None:
    """``CLICKTOCALL_MAX_QUEUE_WAIT`` in seconds, or None when it is 0 (no maximum)."""
    return conf.MAX_QUEUE_WAIT or None


def expires_after() -> float | None:
    """Seconds after which a waiting call is given up: the maximum wait and a tenth more (at
    least 5 s), so that a call accepted with a wait just under the maximum, placed on its
    turn, is not given up for the milliseconds its placement takes."""
    longest = max_wait()
    return None if longest is None else longest + max(EXPIRY_SLACK, 0.1 * longest)


def interval() -> float:
    """Seconds between two turns at the configured pace (0: no pacing)."""
    cps = conf.PROVIDER_CPS
    return MARGIN / cps if cps > 0 else 0.0


def key(name: str) -> str:
    """The cache key of the pace ``name`` (a ``limits.Turn`` takes its turns by this name)."""
    return name if name.startswith("clicktocall:pace:") else f"clicktocall:pace:{name}"


def queue_turn() -> limits.Turn | None:
    """The step that takes a queued request's turn in the queue's pace, for ``limits.take`` (None: no pacing)."""
    if interval() <= 0:
        return None
    return limits.Turn(key(QUEUE), interval(), max_wait() or -1.0)


def provider_turn() -> limits.Turn | None:
    """The step that takes a request's turn in the provider's pace with direct placement, for
    ``limits.take``: at most ``DIRECT_MAX_WAIT`` seconds away (None: no pacing)."""
    if interval() <= 0:
        return None
    return limits.Turn(key(PROVIDER), interval(), min(max_wait() or DIRECT_MAX_WAIT, DIRECT_MAX_WAIT))


def _redis_client(name: str):
    """The Redis client and full key of ``name`` when the limits' cache is Redis, else None."""
    store = limits.cache()
    client = limits.redis_client(store)
    return None if client is None else (client, store.make_key(key(name)))


def take_turn(name: str, longest: float | None = None) -> Turn:
    """Take the next turn of the pace ``name``; refused (nothing taken) when it is more than ``longest`` s away."""
    step = interval()
    if step <= 0:
        return Turn(True, 0.0)
    bound = -1.0 if longest is None else longest
    redis = _redis_client(name)
    if redis is not None:
        client, full_key = redis
        taken, wait = limits.run_script(client, TAKE_TURN, [full_key], [repr(step), repr(bound)])
        return Turn(bool(taken), max(0.0, float(wait)))
    return _take_turn_in_database(name, step, bound)


def _take_turn_in_database(name: str, step: float, bound: float) -> Turn:
    name = key(name)
    connection = connections[router.db_for_write(PaceState)]
    table = connection.ops.quote_name(PaceState._meta.db_table)
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    now = time.time()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET next_at = {greatest}(next_at, %s) + %s "
            f"WHERE name = %s AND (%s < 0 OR {greatest}(next_at, %s) - %s <= %s) RETURNING next_at",
            [now, step, name, bound, now, now, bound],
        )
        row = cursor.fetchone()
        if row is not None:
            return Turn(True, max(0.0, row[0] - step - now))
        cursor.execute(f"SELECT next_at FROM {table} WHERE name = %s", [name])
        row = cursor.fetchone()
    if row is None:  # the first turn ever: the row does not exist yet
        PaceState.objects.get_or_create(name=name)
        return _take_turn_in_database(name, step, bound)
    return Turn(False, max(0.0, row[0] - now))


def wait_for_turn(name: str = PROVIDER, longest: float | None = None) -> Turn:
    """Take the next turn of ``name`` and sleep until it comes (when taken)."""
    turn = take_turn(name, longest)
    if turn.taken and turn.wait > 0:
        time.sleep(turn.wait)
    return turn


def expected_wait(name: str = QUEUE) -> float:
    """Seconds until the next free turn of ``name`` (an estimate of the queue's wait), without taking it."""
    if interval() <= 0:
        return 0.0
    redis = _redis_client(name)
    if redis is not None:
        client, full_key = redis
        value = client.get(full_key)
        next_at = float(value) if value is not None else 0.0
        seconds, micro = client.time()
        return max(0.0, next_at - (seconds + micro / 1e6))
    next_at = PaceState.objects.filter(name=key(name)).values_list("next_at", flat=True).first() or 0.0
    return max(0.0, next_at - time.time())


@dataclass(frozen=True)
class QueueRow:
    """The queue of one line (``line`` None: all lines together)."""

    line: object
    waiting: int
    placed_last_minute: int
    wait: float  # seconds to place what waits, at the paced rate


@dataclass(frozen=True)
class QueueFigures:
    rows: list[QueueRow]
    overall: QueueRow
    cps: float
    longest: float | None

    @property
    def warning(self) -> bool:
        """Whether the expected wait has reached 80% of the maximum."""
        return self.longest is not None and self.overall.wait >= WARN_SHARE * self.longest


def queue_figures() -> QueueFigures:
    """Per line and overall: calls waiting, the wait they make at the paced rate, calls placed in the last minute.

    One query, on the attempts of the last hours (a call waits at most the maximum wait).
    """
    from datetime import timedelta

    from django.db.models import Count, Q
    from django.utils import timezone

    from .models import CallAttempt, CampaignLine

    now = timezone.now()
    horizon = now - timedelta(seconds=(max_wait() or 0) + 6 * 3600)
    waiting = Q(outcome__in=[CallAttempt.Outcome.QUEUED, CallAttempt.Outcome.PENDING])
    placed = Q(outcome=CallAttempt.Outcome.PLACED, placed_at__gte=now - timedelta(minutes=1))
    counts = (
        CallAttempt.objects.filter(waiting | placed, created_at__gte=horizon)
        .values("line")
        .annotate(waiting=Count("pk", filter=waiting), placed=Count("pk", filter=placed))
        .order_by()
    )
    by_line = {row["line"]: row for row in counts}
    step = interval()
    lines = CampaignLine.objects.filter(pk__in=by_line).order_by("name", "phone_number")
    rows = [
        QueueRow(line, by_line[line.pk]["waiting"], by_line[line.pk]["placed"], by_line[line.pk]["waiting"] * step)
        for line in lines
    ]
    total = sum(row.waiting for row in rows)
    overall = QueueRow(
        None, total, sum(row.placed_last_minute for row in rows), max(total * step, expected_wait(QUEUE))
    )
    return QueueFigures(rows, overall, conf.PROVIDER_CPS, max_wait())
