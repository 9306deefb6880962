#!/usr/bin/env python
"""Benchmark the results page's queries at growing volumes on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ctc_bench .venv/bin/python scripts/bench_stats.py \
        [1000000] [--before DIR]

Fills one campaign line with attempts spread over a year, inserted in time order as a live
service writes them (about 55% answered, each with two target legs), in steps up to the
given total, runs ``VACUUM ANALYZE`` (as autovacuum would after such a load), and prints,
side by side, how long the stats take for the last 30 days and the last 365 days at each
volume (the best of 3), and the plans PostgreSQL chose for the page's queries. The
database is emptied first: use a scratch one.

``--before DIR`` also times, on the same rows, the ``line_stats`` of the code in ``DIR``
(an earlier checkout, e.g. ``git worktree add /tmp/before <commit>``) and prints the
ratio before/after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("BENCH_STATS_CODE") or Path(__file__).resolve().parents[1])
RANGES = (30, 365)


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ.setdefault("CLICKTOCALL_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def measure(line_id: int) -> dict[int, tuple[float, int]]:
    """``{days: (best seconds of 3, requests)}`` for the last 30 and 365 days of ``line_id``."""
    from django.utils import timezone

    from clicktocall.models import CampaignLine
    from clicktocall.stats import default_range, line_stats

    line = CampaignLine.objects.get(pk=line_id)
    timings = {}
    for days in RANGES:
        start, end = default_range(days, timezone.localdate())
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            stats = line_stats(line, start, end)
            best = min(best, time.perf_counter() - t)
        timings[days] = (best, stats.requests)
    return timings


def measure_before(code: Path, line_id: int) -> dict[int, tuple[float, int]]:
    """:func:`measure` run with the code in ``code``, in a process of its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(line_id)],
        env={**os.environ, "BENCH_STATS_CODE": str(code)},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {int(days): tuple(value) for days, value in json.loads(out).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("total", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database (it is emptied).")
    setup()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    total = args.total
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from clicktocall.denormalized import count_connected
    from clicktocall.models import CallAttempt, CallLeg, CampaignLine, Target
    from clicktocall.stats import default_range, line_stats

    call_command("migrate", verbosity=0)
    CallLeg.objects.all().delete()
    CallAttempt.objects.all().delete()
    Target.objects.all().delete()
    CampaignLine.objects.all().delete()
    line = CampaignLine.objects.create(phone_number="+18559299898", name="Bench")
    targets = [
        Target.objects.create(line=line, position=i, name=f"Target {i}", phone_number=n)
        for i, n in enumerate(["+12022244543", "+12022242742"])
    ]
    steps = [n for n in (10_000, 100_000, 1_000_000, 10_000_000) if n < total] + [total]
    rows = []
    inserted = 0
    for step in steps:
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            previous_max_id = inserted_max_id(cursor, inserted)
            cursor.execute(
                """
                INSERT INTO clicktocall_callattempt (line_id, token, phone, name, email, variables, submitted,
                    user_agent, referrer, outcome, status, provider_call_id, error_detail, created_at, updated_at,
                    answered_at, duration, connected_legs)
                SELECT %s, 'bench-' || g, '+1617555' || lpad((g %% 10000)::text, 4, '0'), '', '', '{}', '{}',
                    '', '', o.outcome, '', '', '', t.at, t.at,
                    CASE WHEN o.outcome = 'placed' AND r2 < 0.7 THEN t.at + interval '25 seconds' END,
                    CASE WHEN o.outcome = 'placed' AND r2 < 0.7 THEN 40 + (r2 * 500)::int END, 0
                FROM generate_series(%s, %s) g,
                     LATERAL (SELECT random() + 0 * g AS r1, random() AS r2,
                                      now() - interval '365 days' * (1 - (g - %s)::float / (%s - %s + 1))
                                      AS at) x,
                     LATERAL (SELECT x.at) t(at),
                     LATERAL (SELECT CASE WHEN r1 < 0.8 THEN 'placed' WHEN r1 < 0.88 THEN 'invalid'
                                          WHEN r1 < 0.95 THEN 'throttled' WHEN r1 < 0.98 THEN 'blocked'
                                          ELSE 'error' END) o(outcome)
                """,
                [line.pk, inserted + 1, step, inserted + 1, step, inserted + 1],
            )
            for position, target in enumerate(targets):
                cursor.execute(
                    """
                    INSERT INTO clicktocall_callleg (attempt_id, target_id, position, target_name, target_number,
                        status, provider_call_id, started_at, duration, line_id, requested_at)
                    SELECT a.id, %s, %s, %s, %s, CASE WHEN random() < 0.75 THEN 'completed' ELSE 'no-answer' END,
                        '', a.answered_at, (20 + random() * 200)::int, a.line_id, a.created_at
                    FROM clicktocall_callattempt a
                    WHERE a.answered_at IS NOT NULL AND a.token >= 'bench-' AND a.id > %s
                    """,
                    [target.pk, position, target.name, target.phone_number, previous_max_id],
                )
        # What lifecycle.end_leg does for each leg that ends, for this step's attempts at once.
        count_connected(CallAttempt.objects.filter(pk__gt=previous_max_id, legs__status="completed"), CallLeg)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE clicktocall_callattempt")
            cursor.execute("VACUUM ANALYZE clicktocall_callleg")
        inserted = step
        fill = time.perf_counter() - t0
        timings = measure(line.pk)
        before = measure_before(args.before, line.pk) if args.before else None
        rows.append((step, fill, timings, before))
        print(
            f"{step:>10,} attempts (+{fill:5.1f}s to insert): "
            + "   ".join(
                f"{days} days {timings[days][0] * 1000:7.1f} ms ({timings[days][1]:,} rows)"
                + (f", before {before[days][0] * 1000:7.1f} ms" if before else "")
                for days in RANGES
            ),
            flush=True,
        )

    print("\nvolume      30-day page   365-day page   ratio to the first volume (30 d / 365 d)")
    base30, base365 = rows[0][2][30][0], rows[0][2][365][0]
    for step, _, timings, _ in rows:
        print(
            f"{step:>10,}  {timings[30][0] * 1000:9.1f} ms  {timings[365][0] * 1000:10.1f} ms   "
            f"{timings[30][0] / base30:5.1f}x / {timings[365][0] / base365:5.1f}x"
        )
    if args.before:
        print(f"\nbefore ({args.before}) and after, on the same rows")
        print("volume      30 d before    30 d after   before/after   365 d before   365 d after   before/after")
        for step, _, timings, before in rows:
            print(
                f"{step:>10,}  "
                + "  ".join(
                    f"{before[days][0] * 1000:9.1f} ms  {timings[days][0] * 1000:9.1f} ms  "
                    f"{before[days][0] / timings[days][0]:10.1f}x"
                    for days in RANGES
                )
            )
            assert all(before[days][1] == timings[days][1] for days in RANGES), "the two versions count differently"

    start, end = default_range(365, timezone.localdate())
    with CaptureQueriesContext(connection) as queries:
        line_stats(line, start, end)
    for query in queries.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(f"\nPlan of {query['sql'][:60]}… (365 days):\n{plan}")


def inserted_max_id(cursor, inserted: int) -> int:
    """The largest attempt id before this step's rows (legs are added for new rows only)."""
    if not inserted:
        return 0
    cursor.execute("SELECT id FROM clicktocall_callattempt WHERE token = %s", [f"bench-{inserted}"])
    row = cursor.fetchone()
    return row[0] if row else 0


if __name__ == "__main__":
    main()
