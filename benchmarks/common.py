"""What both benchmarks share: the database and cache they use, Django set-up, printing."""

from __future__ import annotations

import os
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/clicktocall_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LINE = "+18559299898"
# A run sends more accepted requests to one line than the default daily cap allows.
LINE_DAILY_CAP = 1_000_000_000


def postgres_answers(url: str) -> bool:
    """True when ``url``'s server answers; creates its database when missing."""
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(url)
    if db["ENGINE"] != "django.db.backends.postgresql":
        return False
    params = {
        "host": db["HOST"] or "localhost",
        "port": db["PORT"] or 5432,
        "user": db["USER"] or None,
        "password": db["PASSWORD"] or None,
        "connect_timeout": 3,
    }
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{db["NAME"]}"')
    except psycopg.Error:
        return False
    return True


def redis_answers(url: str) -> bool:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:
        return False
    return True


def environment(database_url: str | None = None, redis_url: str | None = None) -> dict[str, str]:
    """The production-like environment both the benchmark process and gunicorn run with."""
    database_url = database_url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    if not postgres_answers(database_url):
        fallback = f"sqlite:///{Path(tempfile.gettempdir()) / 'clicktocall-bench.sqlite3'}"
        print(f"PostgreSQL at {database_url} does not answer: using {fallback} (figures not representative)")
        database_url = fallback
    redis_url = redis_url or os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    if not redis_answers(redis_url):
        print(f"Redis at {redis_url} does not answer: using the in-process cache")
        redis_url = ""
    static_root = Path(tempfile.gettempdir()) / "clicktocall-bench-static"
    static_root.mkdir(exist_ok=True)
    return {
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DATABASE_CONN_MAX_AGE": "60",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "benchmark-only-secret-key-not-for-production-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_STATIC_ROOT": str(static_root),
        "CLICKTOCALL_TELEPHONY_BACKEND": "console",
        "CLICKTOCALL_TRUSTED_PROXIES": "1",
        # The console backend calls nobody: a pace no request ever waits for (the burst sets its own).
        "CLICKTOCALL_PROVIDER_CPS": "100000",
        "CLICKTOCALL_PUBLIC_URL": "https://calls.example.org",
        "CLICKTOCALL_PLACEMENT": "direct",
        "DJANGO_TASKS_BACKEND": "immediate",
    }


def setup_django(env: dict[str, str]) -> None:
    """Configure this process like the servers: same settings, same database, migrated."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ensure_line():
    from clicktocall.models import CampaignLine

    line, _ = CampaignLine.objects.update_or_create(
        phone_number=LINE, defaults={"name": "Benchmark", "is_active": True, "daily_cap": LINE_DAILY_CAP}
    )
    return line


@contextmanager
def task_backend(path: str) -> Iterator[None]:
    """Run the block with the default task backend at ``path`` (Django resets no task backend itself)."""
    from django.test.utils import override_settings

    with override_settings(TASKS={"default": {"BACKEND": path}}):
        _reset_task_backends()
        try:
            yield
        finally:
            _reset_task_backends()
    _reset_task_backends()


def _reset_task_backends() -> None:
    from asgiref.local import Local
    from django.tasks import task_backends

    task_backends.__dict__.pop("settings", None)
    task_backends._settings = None
    task_backends._connections = Local()


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with right-aligned figures."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(parts))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
