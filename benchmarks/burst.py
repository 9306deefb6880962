"""The email-blast minute: a burst of ``/outgoing`` requests, queued, placed at the provider's pace.

    python -m benchmarks.burst [--requests 5000] [--seconds 60] [--cps 1 10] [--max-queue-wait 120]

For each rate: gunicorn with its default workers (``gunicorn.conf.py``: 2 × CPUs + 1),
queued placement with 2 ``db_worker`` processes, the Twilio backend against the Twilio
stand-in (``tests/twilio_standin.py``), which records when each call arrives and answers
429 to a call beyond the configured rate in any one second, as a provider does. The
requests arrive at an even rate over ``--seconds`` (at most 64 open at once), each from
its own address with its own number, on loopback only. After the burst the run waits
until every accepted call is placed or given up (at most the maximum wait and 60 s more).

Prints, per rate: answers per second and p50/p99 of ``/outgoing``, accepted and busy
answers, calls placed per second over time (and the most in any one second), 429s
received, duplicates, and how long the last placed call waited. Exits 1 when an answer
was neither "placed" nor "busy", a call was placed twice, or the provider refused one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from .common import ensure_line, environment, percentile, setup_django, table
from .load import (
    PLACED,
    SCENARIOS,
    fmt,
    gunicorn,
    knobs,
    reserve_numbers,
    task_workers,
    timed,
    unplace_leftovers,
    verdict,
)

BUSY = b"Sorry, there was an error."
MAX_OPEN = 64


@dataclass
class Burst:
    latencies: list[float] = field(default_factory=list)
    placed: int = 0
    busy: int = 0
    unexpected: int = 0
    seconds: float = 0.0


async def _burst(port: int, total: int, seconds: float) -> Burst:
    result = Burst()
    scenario = SCENARIOS[1]  # /outgoing success: a new number, a new address
    gate = asyncio.Semaphore(MAX_OPEN)
    started = time.perf_counter()

    async def one(raw: bytes) -> None:
        async with gate:
            answer = await timed(port, raw)
            if answer is None:
                result.unexpected += 1
                return
            seconds, status, data = answer
            result.latencies.append(seconds)
            if status == 200 and PLACED in data:
                result.placed += 1
            elif status == 400 and BUSY in data:
                result.busy += 1
            else:
                result.unexpected += 1

    tasks = []
    for n in range(total):
        delay = started + n * seconds / total - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scenario.raw())))
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - started
    return result


def burst(port: int, total: int, seconds: float) -> Burst:
    out: list[Burst] = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(_burst(port, total, seconds))))
    thread.start()
    thread.join()
    return out[0]


def placed_per_second(arrivals: list[float], start: float) -> tuple[list[tuple[int, int]], int]:
    """Calls per 1-second bucket since ``start``, and the most calls in any 1-second window."""
    buckets = Counter(int(at - start) for at in arrivals)
    ordered = sorted(arrivals)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return sorted(buckets.items()), most


def timeline(buckets: list[tuple[int, int]], width: int = 10) -> str:
    """Calls placed per second, averaged over ``width``-second spans: ``0–10 s: 1.0/s``."""
    if not buckets:
        return "no call placed"
    spans = Counter()
    for second, count in buckets:
        spans[second // width] += count
    return ", ".join(f"{n * width}–{(n + 1) * width} s: {spans[n] / width:.1f}/s" for n in range(max(spans) + 1))


def ready(port: int, log_path: str, timeout: float = 120.0) -> None:
    """Wait until every gunicorn worker has booted and both task workers poll the queue."""
    import http.client

    workers = 2 * (os.cpu_count() or 1) + 1  # gunicorn.conf.py's default
    deadline = time.monotonic() + timeout
    while True:
        with open(log_path) as log:
            text = log.read()
        if text.count("Booting worker") >= workers and text.count("Starting worker") >= 2:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the servers did not start; see {log_path}")
        time.sleep(0.2)
    for _ in range(workers * 4):  # every worker has imported the project before the burst
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("OPTIONS", "/outgoing")
        conn.getresponse().read()
        conn.close()


def run_rate(env: dict[str, str], cps: float, args: argparse.Namespace, log_path: str, line) -> tuple[list, int]:
    from django.db.models import F, Max

    from clicktocall.models import CallAttempt, PaceState

    from .load import https_standin

    PaceState.objects.all().delete()  # each rate starts with an empty queue: paces of its own
    unplace_leftovers(line)  # and no task an earlier, interrupted run left behind
    paced = {
        "DJANGO_CACHE_KEY_PREFIX": f"bench-burst-{uuid.uuid4().hex[:8]}",
        "CLICKTOCALL_PLACEMENT": "queued",
        "DJANGO_TASKS_BACKEND": "database",
        "CLICKTOCALL_TELEPHONY_BACKEND": "twilio",
        "CLICKTOCALL_PROVIDER_CPS": f"{cps:g}",
        "CLICKTOCALL_MAX_QUEUE_WAIT": f"{args.max_queue_wait:g}",
        "CLICKTOCALL_LOG_LEVEL": "WARNING",
    }
    first_id = CallAttempt.objects.aggregate(last=Max("pk"))["last"] or 0
    with https_standin(calls_per_second=cps) as (standin, provider):
        extra = {**paced, **provider}
        with gunicorn(env, None, log_path, **extra) as port, task_workers(env, 2, log_path, **extra):
            ready(port, log_path)
            started = time.time()
            result = burst(port, args.requests, args.seconds)
            mine = CallAttempt.objects.filter(line=line, pk__gt=first_id)
            deadline = time.monotonic() + args.max_queue_wait + 60
            while mine.filter(outcome__in=["queued", "pending"]).exists() and time.monotonic() < deadline:
                time.sleep(0.5)
            left = mine.filter(outcome__in=["queued", "pending"]).count()
        arrivals = [created.at for created in standin.created]
        tokens = Counter(created.value("Url").rstrip("/").rsplit("/", 1)[-1] for created in standin.created)
        refused = len(standin.refused)
    outcomes = Counter(mine.values_list("outcome", flat=True))
    last = (
        mine.filter(outcome="placed").order_by("-placed_at").annotate(waited=F("placed_at") - F("created_at")).first()
    )
    buckets, most = placed_per_second(arrivals, started)
    duplicates = sum(count - 1 for count in tokens.values() if count > 1)
    rows = [
        ["requests (answers/s)", f"{len(result.latencies):,} ({len(result.latencies) / result.seconds:,.1f}/s)"],
        [
            "p50 / p99 ms",
            f"{fmt(percentile(result.latencies, 0.5) * 1000)} / {fmt(percentile(result.latencies, 0.99) * 1000)}",
        ],  # noqa: E501
        ["answered placed / busy / other", f"{result.placed:,} / {result.busy:,} / {result.unexpected:,}"],
        ["calls placed (expired, left)", f"{len(arrivals):,} ({outcomes.get('expired', 0):,}, {left:,})"],
        ["most calls in any second", f"{most} (setting {cps:g})"],
        ["429s received", refused],
        ["duplicates", duplicates],
        ["last placed call waited", f"{last.waited.total_seconds():.1f} s" if last else "-"],
    ]
    print(
        f"\n{args.requests:,} requests over {args.seconds:g} s, provider at {cps:g} calls/s, "
        f"maximum wait {args.max_queue_wait:g} s"
    )
    print(table(["figure", "value"], rows))
    print(f"placed per second: {timeline(buckets)}")
    # An accepted call given up (expired) broke the answer the visitor got: a problem too.
    problems = result.unexpected + duplicates + refused + left + outcomes.get("expired", 0) + (1 if most > cps else 0)
    return rows, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--cps", type=float, nargs="+", default=[1.0, 10.0], help="provider rates to run at")
    parser.add_argument("--max-queue-wait", type=float, default=120.0)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: stop the servers it started too
    if not (1 <= args.requests <= 50_000 and 1 <= args.seconds <= 600 and 0 < args.max_queue_wait <= 600):
        parser.error("--requests 1…50000, --seconds 1…600, --max-queue-wait up to 600")
    if not all(0 < cps <= 100 for cps in args.cps):
        parser.error("--cps between 0 and 100")

    env = environment()
    setup_django(env)
    line = ensure_line()
    reserve_numbers(2 * args.requests * len(args.cps) + 1000)
    log_path = os.path.join(tempfile.gettempdir(), "clicktocall-bench-burst.log")
    open(log_path, "w").close()
    print(
        f"database {env['DATABASE_URL']}, cache {env['REDIS_URL'] or 'in-process'}; server log {log_path}; "
        f"{os.cpu_count()} CPUs; gunicorn's default workers, 2 db_workers"
    )
    print(knobs(line, pace=" and ".join(f"{cps:g}" for cps in args.cps) + " calls/s, a run each"))
    problems = 0
    for cps in args.cps:
        problems += run_rate(env, cps, args, log_path, line)[1]
    what = "unexpected answers, duplicates, 429s, calls left or given up, or seconds over the rate"
    return verdict(problems, what, log_path)


if __name__ == "__main__":
    sys.exit(main())
