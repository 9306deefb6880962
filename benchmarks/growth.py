"""Growth benchmark: the admin and the CSV export at 10,000 and at 1,000,000 attempts.

    python -m benchmarks.growth [--sizes 10000 1000000] [--repeat 5]

Fills the attempts table (``INSERT … SELECT FROM generate_series`` on PostgreSQL, bulk
inserts elsewhere) to each size, analyzes it, then times in-process, through the whole
middleware stack as a logged-in superuser: the attempts changelist, filtered
changelists, and the streamed CSV export of a line (its whole history and one month),
with the SQL queries of each page and the peak Python memory of each export.
"""

from __future__ import annotations

import argparse
import re
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from .common import environment, median, setup_django, table

LINES = 20
# Of every 100 attempts: 85 placed, 8 refused as invalid, 4 too quick, 2 failed, 1 queued.
OUTCOMES = [("placed", 85), ("invalid", 8), ("throttled", 4), ("error", 2), ("queued", 1)]
SPACING_SECONDS = 31  # a million attempts span about a year


def make_lines() -> list[int]:
    from clicktocall.models import CampaignLine

    ids = []
    for n in range(LINES):
        line, _ = CampaignLine.objects.get_or_create(
            phone_number=f"+1855929{9800 + n:04d}", defaults={"name": f"Campaign {n + 1}"}
        )
        ids.append(line.pk)
    return ids


def _outcome_sql() -> str:
    cases, upto = [], 0
    for outcome, share in OUTCOMES:
        upto += share
        cases.append(f"WHEN i % 100 < {upto} THEN '{outcome}'")
    return "CASE " + " ".join(cases) + " END"


def fill(target: int, line_ids: list[int]) -> float:
    """Add attempts until the table holds ``target`` rows; seconds taken.

    Line 1 (the national campaign) gets a fifth of all attempts; the rest are spread.
    """
    from django.db import connection

    from clicktocall.models import CallAttempt

    start_count = CallAttempt.objects.count()
    if start_count >= target:
        return 0.0
    first, last = start_count + 1, target
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        ids = "ARRAY[" + ",".join(str(i) for i in line_ids) + "]::bigint[]"
        sql = f"""
        INSERT INTO clicktocall_callattempt
          (line_id, token, phone, name, email, variables, submitted, client_ip, user_agent, referrer,
           outcome, status, provider_call_id, error_detail, created_at, updated_at, answered_at, ended_at, duration,
           reminder)
        SELECT
          ({ids})[CASE WHEN i % 5 = 0 THEN 1 ELSE 2 + (i * 7919) % {len(line_ids) - 1} END],
          'bench-' || i,
          '+1617' || lpad(((i * 7919) % 10000000)::text, 7, '0'),
          'Visitor ' || i, 'visitor' || i || '@example.org', '{{"zip": "02113"}}'::jsonb, '{{}}'::jsonb,
          ('203.0.113.' || (i % 250 + 1))::inet,
          'Mozilla/5.0 (X11; Linux x86_64) benchmark', 'https://www.example.org/act-now',
          {_outcome_sql()},
          CASE WHEN i % 100 < 85 THEN (ARRAY['completed','completed','no-answer','busy'])[1 + i % 4] ELSE '' END,
          CASE WHEN i % 100 < 85 THEN 'CA' || md5(i::text) ELSE '' END,
          CASE WHEN i % 100 BETWEEN 97 AND 98 THEN 'Twilio refused the call: HTTP 503' ELSE '' END,
          now() - make_interval(secs => i * {SPACING_SECONDS}),
          now() - make_interval(secs => i * {SPACING_SECONDS}),
          NULL, NULL,
          CASE WHEN i % 100 < 85 THEN 20 + i % 200 END,
          0
        FROM generate_series(%s::bigint, %s::bigint) AS i
        """.replace("%", "%%").replace("%%s", "%s")  # the modulo operator, not placeholders
        with connection.cursor() as cursor:
            cursor.execute(sql, [first, last])
            cursor.execute("ANALYZE clicktocall_callattempt")
    else:
        _fill_with_orm(first, last, line_ids)
    return time.perf_counter() - started


def _fill_with_orm(first: int, last: int, line_ids: list[int]) -> None:
    from django.utils import timezone

    from clicktocall.models import CallAttempt

    now = timezone.now()
    outcomes = [o for o, share in OUTCOMES for _ in range(share)]
    for chunk in range(first, last + 1, 5000):
        numbers = range(chunk, min(last + 1, chunk + 5000))
        batch = [
            CallAttempt(
                line_id=line_ids[0] if i % 5 == 0 else line_ids[1 + (i * 7919) % (len(line_ids) - 1)],
                token=f"bench-{i}",
                phone=f"+1617{(i * 7919) % 10000000:07d}",
                name=f"Visitor {i}",
                outcome=outcomes[i % 100],
            )
            for i in numbers
        ]
        CallAttempt.objects.bulk_create(batch)  # created_at is set to now on insert: spread it afterwards
        for i, attempt in zip(numbers, batch, strict=True):
            attempt.created_at = now - timedelta(seconds=i * SPACING_SECONDS)
        CallAttempt.objects.bulk_update(batch, ["created_at"])


@dataclass
class Timing:
    name: str
    seconds: float
    queries: int
    slowest_ms: float
    detail: str = ""
    peak_mib: float | None = None


def _client():
    from django.contrib.auth.models import User
    from django.test import Client

    user = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser(
        "bench-admin", "bench@example.org", None
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def time_page(client, name: str, url: str, repeat: int) -> Timing:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clicktocall.admin.large_tables import LargeTablePaginator

    seconds, queries, slowest = [], 0, 0.0
    client.get(url)  # warm the caches of the database and Django
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
        slowest = max(slowest, *(float(q["time"]) * 1000 for q in captured))
    shown = re.search(r"(\d+) call attempts?\b", response.content.decode())
    detail = ""
    if shown:
        count = int(shown.group(1))
        estimated = connection.vendor == "postgresql" and count > LargeTablePaginator.exact_limit
        detail = f"{count:,} rows" + (" (estimate)" if estimated else "")
    return Timing(name, median(seconds), queries, slowest, detail)


def _read_export(client, url: str) -> tuple[int, int, int]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    size, lines = 0, 0
    for block in response.streaming_content:
        size += len(block)
        lines += block.count(b"\n")
    return size, lines - 1, response.status_code


def time_export(client, name: str, url: str, repeat: int) -> Timing:
    """Median time to read the whole streamed CSV; then one more read under tracemalloc for the peak."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seconds = []
    for _ in range(max(1, repeat // 2)):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            size, rows, _ = _read_export(client, url)
            seconds.append(time.perf_counter() - started)
    slowest = max((float(q["time"]) * 1000 for q in captured), default=0.0)
    queries = len(captured)
    tracemalloc.start()
    _read_export(client, url)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return Timing(name, median(seconds), queries, slowest, f"{rows:,} rows, {size / 2**20:,.1f} MiB", peak)


def measure(size: int, line_ids: list[int], repeat: int) -> list[Timing]:
    from django.utils import timezone

    client = _client()
    base = "/admin/clicktocall/callattempt/"
    busy, quiet = line_ids[0], line_ids[1]
    page = max(1, min(50, size // 100))
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    week = {"created_at__gte": str(today - timedelta(days=7)), "created_at__lt": str(today + timedelta(days=1))}
    month_end = timezone.localdate()
    month_start = month_end - timedelta(days=30)
    pages: list[tuple[str, str]] = [
        ("changelist", base),
        (f"changelist, page {page}", f"{base}?p={page}"),
        ("filter: outcome = error", f"{base}?outcome__exact=error"),
        ("filter: line (busiest)", f"{base}?line__id__exact={busy}"),
        ("filter: status + line", f"{base}?status__exact=busy&line__id__exact={quiet}"),
        ("filter: past 7 days", f"{base}?{urlencode(week)}"),
        ("date hierarchy: this year", f"{base}?created_at__year={month_end.year}"),
        ("search: exact phone", f"{base}?q=%2B16170007919"),
    ]
    timings = [time_page(client, name, url, repeat) for name, url in pages]
    exports: list[tuple[str, str]] = [
        ("export: busiest line, all", f"/admin/clicktocall/campaignline/{busy}/export/"),
        (
            "export: busiest line, 30 days",
            f"/admin/clicktocall/campaignline/{busy}/export/?start={month_start}&end={month_end}",
        ),  # noqa: E501
        ("export: quiet line, all", f"/admin/clicktocall/campaignline/{quiet}/export/"),
    ]
    timings += [time_export(client, name, url, repeat) for name, url in exports]
    return timings


def run(sizes: list[int], repeat: int, report: Callable[[str], None] = print) -> dict[int, list[Timing]]:
    """Fill to each size in turn and measure; returns the timings by size."""
    from django.db import connection

    from clicktocall.models import CallAttempt

    CallAttempt.objects.all().delete() if connection.vendor != "postgresql" else _truncate()
    line_ids = make_lines()
    results = {}
    for size in sizes:
        took = fill(size, line_ids)
        report(f"filled to {size:,} attempts in {took:.1f} s")
        results[size] = measure(size, line_ids, repeat)
    return results


def _truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE clicktocall_callattempt RESTART IDENTITY CASCADE")


def render(results: dict[int, list[Timing]]) -> str:
    sizes = sorted(results)
    names = [t.name for t in results[sizes[0]]]
    headers = ["operation"]
    for size in sizes:
        label = f"{size:,}"
        headers += [f"{label}: ms", "queries", "slowest q ms", "peak MiB", "result"]
    rows = []
    for n, name in enumerate(names):
        row: list[object] = [name]
        for size in sizes:
            t = results[size][n]
            peak = f"{t.peak_mib:.1f}" if t.peak_mib is not None else "-"
            row += [f"{t.seconds * 1000:,.1f}", t.queries, f"{t.slowest_ms:,.1f}", peak, t.detail]
        rows.append(row)
    return table(headers, rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each page (median shown)")
    args = parser.parse_args(argv)
    env = environment()
    setup_django(env)
    import logging

    logging.disable(logging.WARNING)
    print(f"database {env['DATABASE_URL']}")
    results = run(sorted(args.sizes), args.repeat)
    print()
    print(render(results))
    print("\nms: median wall time in-process (whole middleware stack, template rendered / CSV fully read);")
    print("peak MiB: Python memory at the peak of the export (tracemalloc).")


if __name__ == "__main__":
    main()
