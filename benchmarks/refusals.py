"""Storage benchmark: what a flood of refused requests from one address adds to the database.

    python -m benchmarks.refusals [--requests 200]

Sends ``--requests`` refused requests from one address, in-process through the whole
middleware stack: each one as large as ``/outgoing`` lets it be (every parameter past
its bound, a 20 kB user agent and referring page, random text that does not
compress), answered with the format error.
Measured: the size of the values the attempts store, and, on PostgreSQL, what the
attempts table grows by from empty (``pg_total_relation_size``: rows, indexes, TOAST). Three
runs side by side: every refused request keeping its details (the hourly share of
``CLICKTOCALL_REFUSED_RECORDS_PER_HOUR`` above the flood), the default share, none.
"""

from __future__ import annotations

import argparse
import json
import secrets

from .common import ensure_line, environment, setup_django, table


def noise(length: int) -> str:
    """Text that does not compress, as a flood made to fill a database would send."""
    return secrets.token_urlsafe(length)[:length]


def fat_headers() -> dict[str, str]:
    return {"HTTP_USER_AGENT": noise(20_000), "HTTP_REFERER": "https://example.org/" + noise(20_000)}


def largest_refused_request() -> dict[str, str]:
    """Every parameter past its bound: refused as bad input, with as much as possible to store."""
    params = {"phone": "(617) 523-2338", "campaign_line": "8559299898", "name": noise(100_000)}
    params["email"] = "not an address " + noise(5_000)
    params["data"] = json.dumps({f"d{i}": noise(90) for i in range(1000)})
    params.update({f"extra{i:02d}": noise(1024) for i in range(50)})
    return params


def stored_bytes(queryset) -> int:
    """The size of the attempts' values as stored, before any compression by the database."""
    return sum(
        len(json.dumps(value) if isinstance(value, dict) else str(value).encode())
        for row in queryset.values()
        for value in row.values()
        if value is not None
    )


def table_bytes() -> int | None:
    """The attempts table's size with its indexes and TOAST, on PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('clicktocall_callattempt')")
        return cursor.fetchone()[0]


def empty_attempts() -> None:
    """Start from an empty attempts table (the benchmark database's attempts are replaced)."""
    from django.db import connection

    from clicktocall.models import CallAttempt

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE clicktocall_callattempt CASCADE")
    else:
        CallAttempt.objects.all().delete()


def flood(requests: int, share: int) -> dict[str, float]:
    """Send the flood with an hourly share of ``share`` detailed records; what it stored."""
    from django.test import Client, override_settings

    from clicktocall.models import CallAttempt

    line = ensure_line()
    empty_attempts()
    before = table_bytes()
    address = f"2001:db8:{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFFFF):x}::7"  # a fresh hourly count
    client = Client(HTTP_HOST="127.0.0.1")
    with override_settings(CLICKTOCALL_REFUSED_RECORDS_PER_HOUR=share):
        for _ in range(requests):
            params, headers = largest_refused_request(), fat_headers()
            response = client.post("/outgoing", params, REMOTE_ADDR=address, HTTP_ACCEPT="application/json", **headers)
            assert response.status_code == 400, response.content
    attempts = CallAttempt.objects.filter(line=line)
    after = table_bytes()
    return {
        "rows": attempts.count(),
        "detailed": attempts.exclude(submitted={}).count(),
        "values": stored_bytes(attempts),
        "table": None if before is None else after - before,
    }


def render(requests: int, results: dict[str, dict[str, float]]) -> str:
    full = results["every refusal detailed"]["values"]
    rows = []
    for name, r in results.items():
        table_kb = "-" if r["table"] is None else f"{r['table'] / 1024:,.0f}"
        rows.append(
            [
                name,
                r["rows"],
                r["detailed"],
                f"{r['values'] / 1024:,.0f}",
                f"{r['values'] / requests:,.0f}",
                table_kb,
                f"{r['values'] / full:.3f}×",
            ]
        )
    headers = ["hourly share", "rows", "detailed", "values KiB", "bytes/request", "table KiB", "values vs detailed"]
    return table(headers, rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    env = environment()
    setup_django(env)
    import logging

    logging.disable(logging.WARNING)
    from clicktocall.conf import DEFAULTS

    default = DEFAULTS["CLICKTOCALL_REFUSED_RECORDS_PER_HOUR"]
    print(f"database {env['DATABASE_URL']}; {args.requests} refused requests from one address\n")
    results = {
        "every refusal detailed": flood(args.requests, args.requests),
        f"default ({default} an hour)": flood(args.requests, default),
        "none detailed": flood(args.requests, 0),
    }
    print(render(args.requests, results))
    print("\nvalues: the stored values' sizes (text as UTF-8, JSON as written); table: what PostgreSQL's")
    print("attempts table, its indexes and TOAST grew by from empty.")


if __name__ == "__main__":
    main()
