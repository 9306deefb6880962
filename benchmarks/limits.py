"""Limits benchmark: what the shared limits cost, on SQLite, on PostgreSQL, and with Redis.

    python -m benchmarks.limits [--requests 1500] [--concurrency 16] [--web-workers 4]

For each deployment (an SQLite file; PostgreSQL with the limits in the database;
PostgreSQL with the limits in Redis), gunicorn serves accepted ``/outgoing`` requests
(console telephony, a new number each) with every limit off and, interleaved with it,
with the default limits on (the client rates raised so that the load is never refused:
the same statements run). Prints, side by side: requests/s and p50/p99 latency of each, and the
ratio of limits on to limits off. Loopback only; bounded requests and durations.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from .common import DEFAULT_REDIS_URL, LINE, ROOT, environment, percentile, postgres_answers, redis_answers, table
from .load import SCENARIOS, Stats, fmt, gunicorn, load

OFF = {
    "CLICKTOCALL_COOLDOWN_SECONDS": "0",
    "CLICKTOCALL_IP_RATE": "off",
    "CLICKTOCALL_PHONE_RATE": "off",
    "CLICKTOCALL_DAILY_CAP": "0",
}
# The defaults, with the client rates' counts raised so that one load generator is never refused.
ON = {
    "CLICKTOCALL_COOLDOWN_SECONDS": "180",
    "CLICKTOCALL_IP_RATE": "100000/m,100000/h,1000000/d",
    "CLICKTOCALL_PHONE_RATE": "6/h,20/d",
    "CLICKTOCALL_DAILY_CAP": "1000000",
}


def deployments() -> list[tuple[str, dict[str, str]]]:
    sqlite = Path(tempfile.gettempdir()) / "clicktocall-bench-limits.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite}{suffix}").unlink(missing_ok=True)
    found = [("SQLite file", {"DATABASE_URL": f"sqlite:///{sqlite}", "REDIS_URL": "", "DJANGO_CACHE_URL": ""})]
    base = environment()
    if base["DATABASE_URL"].startswith("postgres") and postgres_answers(base["DATABASE_URL"]):
        found.append(("PostgreSQL, limits in the database", {"REDIS_URL": "", "DJANGO_CACHE_URL": ""}))
        redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
        if redis_answers(redis_url):
            found.append(("PostgreSQL, limits in Redis", {"REDIS_URL": redis_url, "DJANGO_CACHE_URL": ""}))
    prefix = {"DJANGO_CACHE_KEY_PREFIX": f"bench-limits-{uuid.uuid4().hex[:8]}"}  # apart from anyone's keys
    return [(name, {**base, **prefix, **extra}) for name, extra in found]


def prepare(env: dict[str, str]) -> None:
    for command in (["migrate", "--noinput"], ["clicktocall_line", LINE, "--name", "Benchmark"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1500, help="requests per run")
    parser.add_argument("--rounds", type=int, default=3, help="limits off and on run interleaved, this many times")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="cap on each load run")
    args = parser.parse_args(argv)

    success = SCENARIOS[1]
    log_path = os.path.join(tempfile.gettempdir(), "clicktocall-bench-limits.log")
    open(log_path, "w").close()
    print(
        f"gunicorn: {args.web_workers} sync workers; {args.requests} accepted /outgoing requests per run, "
        f"{args.concurrency} concurrent; {os.cpu_count()} CPUs; server log {log_path}\n"
    )
    rows = []
    for name, env in deployments():
        prepare(env)
        figures = {"off": Stats(), "on": Stats()}
        with (
            gunicorn(env, args.web_workers, log_path, **OFF) as port_off,
            gunicorn(env, args.web_workers, log_path, **ON) as port_on,
        ):
            ports = {"off": port_off, "on": port_on}
            for port in ports.values():
                load(port, success, args.web_workers * 4, args.web_workers)  # warm every worker up
            for _ in range(args.rounds):  # interleaved, so that both see the same machine
                for label, port in ports.items():
                    per_round = max(1, args.requests // args.rounds)
                    figures[label].merge(load(port, success, per_round, args.concurrency, args.max_seconds))
        for label, s in figures.items():
            rows.append(
                [
                    name,
                    label,
                    s.done,
                    s.errors,
                    fmt(s.rps),
                    fmt(percentile(s.latencies, 0.5) * 1000, 2),
                    fmt(percentile(s.latencies, 0.99) * 1000, 2),
                    "-" if label == "off" else f"{s.rps / figures['off'].rps:.2f}×",
                ]
            )
    print(table(["deployment", "limits", "requests", "errors", "req/s", "p50 ms", "p99 ms", "req/s on vs off"], rows))


if __name__ == "__main__":
    main()
