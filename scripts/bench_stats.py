#!/usr/bin/env python
"""Benchmark the results page's queries at growing volumes on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ctc_bench .venv/bin/python scripts/bench_stats.py [1000000]

Fills one campaign line with attempts spread over a year, inserted in time order as a live
service writes them (about 55% answered, each with two target legs), in steps up to the
given total, and prints, side by side, how long the
stats take for the last 30 days and the last 365 days at each volume, and the plan
PostgreSQL chose for the per-day query. The database is emptied first: use a scratch one.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database (it is emptied).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ.setdefault("CLICKTOCALL_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from clicktocall.models import CallAttempt, CallLeg, CampaignLine, Target
    from clicktocall.stats import bounds, default_range, line_stats

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
    today = timezone.localdate()
    rows = []
    inserted = 0
    for step in steps:
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO clicktocall_callattempt (line_id, token, phone, name, email, variables, submitted,
                    user_agent, referrer, outcome, status, provider_call_id, error_detail, created_at, updated_at,
                    answered_at, duration)
                SELECT %s, 'bench-' || g, '+1617555' || lpad((g %% 10000)::text, 4, '0'), '', '', '{}', '{}',
                    '', '', o.outcome, '', '', '', t.at, t.at,
                    CASE WHEN o.outcome = 'placed' AND r2 < 0.7 THEN t.at + interval '25 seconds' END,
                    CASE WHEN o.outcome = 'placed' AND r2 < 0.7 THEN 40 + (r2 * 500)::int END
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
                        status, provider_call_id, started_at, duration)
                    SELECT a.id, %s, %s, %s, %s, CASE WHEN random() < 0.75 THEN 'completed' ELSE 'no-answer' END,
                        '', a.answered_at, (20 + random() * 200)::int
                    FROM clicktocall_callattempt a
                    WHERE a.answered_at IS NOT NULL AND a.token >= 'bench-' AND a.id > %s
                    """,
                    [target.pk, position, target.name, target.phone_number, inserted_max_id(cursor, inserted)],
                )
            cursor.execute("ANALYZE clicktocall_callattempt; ANALYZE clicktocall_callleg")
        inserted = step
        fill = time.perf_counter() - t0
        timings = {}
        for days in (30, 365):
            start, end = default_range(days, today)
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                stats = line_stats(line, start, end)
                best = min(best, time.perf_counter() - t)
            timings[days] = (best, stats.requests)
        rows.append((step, fill, timings))
        print(
            f"{step:>10,} attempts (+{fill:5.1f}s to insert): 30 days {timings[30][0] * 1000:7.1f} ms "
            f"({timings[30][1]:,} rows)   365 days {timings[365][0] * 1000:7.1f} ms ({timings[365][1]:,} rows)",
            flush=True,
        )

    print("\nvolume      30-day page   365-day page   ratio to the first volume (30 d / 365 d)")
    base30, base365 = rows[0][2][30][0], rows[0][2][365][0]
    for step, _, timings in rows:
        print(
            f"{step:>10,}  {timings[30][0] * 1000:9.1f} ms  {timings[365][0] * 1000:10.1f} ms   "
            f"{timings[30][0] / base30:5.1f}x / {timings[365][0] / base365:5.1f}x"
        )

    low, high = bounds(*default_range(30, today))
    per_day = (
        CallAttempt.objects.filter(line=line, created_at__gte=low, created_at__lt=high)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    print("\nPlan of the per-day query (30 days):")
    print(per_day.explain())


def inserted_max_id(cursor, inserted: int) -> int:
    """The largest attempt id before this step's rows (legs are added for new rows only)."""
    if not inserted:
        return 0
    cursor.execute("SELECT id FROM clicktocall_callattempt WHERE token = %s", [f"bench-{inserted}"])
    row = cursor.fetchone()
    return row[0] if row else 0


if __name__ == "__main__":
    main()
