"""Limits hold across several server processes, with or without Redis, on PostgreSQL and on SQLite.

Gunicorn serves the project from four worker processes (four threads each). Three
deployments: PostgreSQL with Redis (the limits live in Redis), PostgreSQL without a
shared cache (they live in the database), and SQLite in a file (they live in the file).
In each, 50 simultaneous identical requests place exactly one call, and 50 simultaneous
requests of one client against a rate of 5/m place exactly five. The console telephony
backend places the calls; the attempts are counted in the database. The PostgreSQL
deployments are skipped when PostgreSQL (or, for its case, Redis) does not answer.

    CLICKTOCALL_TEST_POSTGRES_URL   default postgres://postgres@127.0.0.1:5432/clicktocall_concurrency
    CLICKTOCALL_TEST_REDIS_URL      default redis://127.0.0.1:6379/15
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest

from .processes import project_env, start_gunicorn, stop

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "CLICKTOCALL_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/clicktocall_concurrency"
)
REDIS_URL = os.environ.get("CLICKTOCALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
if os.environ.get("PYTEST_XDIST_WORKER"):  # one database per xdist worker: migrations do not race
    _parts = urlsplit(POSTGRES_URL)
    POSTGRES_URL = urlunsplit(_parts._replace(path=f"{_parts.path}_{os.environ['PYTEST_XDIST_WORKER']}"))
WORKERS = 4
REQUESTS = 50
LINE = "+18559299898"
PHONE = "+16175232338"
CLIENT_RATE = 5


def _env(**extra: str) -> dict[str, str]:
    env = project_env(
        DJANGO_DEBUG="1",
        CLICKTOCALL_TELEPHONY_BACKEND="console",
        CLICKTOCALL_LOG_LEVEL="ERROR",
        CLICKTOCALL_TRUSTED_PROXIES="1",  # each request names its client in X-Forwarded-For
        CLICKTOCALL_COOLDOWN_SECONDS="180",
        CLICKTOCALL_IP_RATE=f"{CLIENT_RATE}/m",
        CLICKTOCALL_PHONE_RATE="off",
        CLICKTOCALL_DAILY_CAP="0",
    )
    env.update(extra)
    return env


def _manage(*args: str, **env: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _postgres(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname=parts.path.lstrip("/"),
        connect_timeout=3,
        autocommit=True,
    )


def _new_postgres_database(suffix: str) -> str:
    """A new, empty PostgreSQL database (an earlier run's is dropped); skips when PostgreSQL does not answer."""
    import psycopg

    parts = urlsplit(POSTGRES_URL)
    url = urlunsplit(parts._replace(path=f"{parts.path}_{suffix}"))
    name = urlsplit(url).path.lstrip("/")
    try:
        with _postgres(urlunsplit(parts._replace(path="/postgres"))) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL does not answer at {POSTGRES_URL}: {exc}")
    return url


def _redis_answers() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class Deployment:
    port: int
    access_log: Path
    database_url: str

    def query(self, sql: str, params: list) -> list[tuple]:
        if self.database_url.startswith("sqlite"):
            with sqlite3.connect(urlsplit(self.database_url).path, timeout=30) as connection:
                return connection.execute(sql.replace("%s", "?"), params).fetchall()
        with _postgres(self.database_url) as connection:
            return connection.execute(sql, params).fetchall()


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("postgres-redis", marks=pytest.mark.postgres),
        pytest.param("postgres", marks=pytest.mark.postgres),
        "sqlite",
    ],
)
def deployment(request, tmp_path_factory) -> Iterator[Deployment]:
    """A migrated database with one campaign line, served by gunicorn with several processes."""
    kind = request.param
    tmp = tmp_path_factory.mktemp(kind)
    if kind == "postgres-redis" and not _redis_answers():
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    database_url = (
        f"sqlite:///{tmp / 'db.sqlite3'}" if kind == "sqlite" else _new_postgres_database(kind.replace("-", "_"))
    )
    cache_url = REDIS_URL if kind == "postgres-redis" else "locmem://"  # locmem: no shared cache
    env = {"DATABASE_URL": database_url, "DJANGO_CACHE_URL": cache_url, "DJANGO_CACHE_KEY_PREFIX": uuid.uuid4().hex}
    _manage("migrate", "--noinput", **env)
    _manage("clicktocall_line", LINE, "--name", "Concurrency", **env)
    process, port = start_gunicorn(_env(**env), tmp)
    try:
        yield Deployment(port, tmp / "access.log", database_url)
    finally:
        stop(process)


def _ask(port: int, barrier: threading.Barrier, results: list, phone: str, client: str) -> None:
    body = urlencode({"phone": phone, "campaign_line": "8559299898"})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.connect()
    barrier.wait()
    conn.request(
        "POST",
        "/outgoing",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json", "X-Forwarded-For": client},
    )
    response = conn.getresponse()
    results.append((response.status, json.loads(response.read())))
    conn.close()


def simultaneously(deployment: Deployment, requests: list[tuple[str, str]]) -> list[str]:
    """Send ``(phone, client address)`` requests all at once; the answers' messages, sorted."""
    barrier = threading.Barrier(len(requests))
    results: list = []
    threads = [
        threading.Thread(target=_ask, args=(deployment.port, barrier, results, phone, client))
        for phone, client in requests
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert len(results) == len(requests)
    assert {status for status, _body in results} <= {200, 400}, results
    return sorted(body["message"] for _status, body in results)


def outcomes(deployment: Deployment, after: int, phone: str | None = None) -> dict[str, int]:
    sql = "SELECT outcome, count(*) FROM clicktocall_callattempt WHERE id > %s"
    params: list = [after]
    if phone:
        sql, params = sql + " AND phone = %s", [after, phone]
    return dict(deployment.query(sql + " GROUP BY outcome", params))


def last_attempt(deployment: Deployment) -> int:
    return deployment.query("SELECT coalesce(max(id), 0) FROM clicktocall_callattempt", [])[0][0]


def served_by(deployment: Deployment) -> set[str]:
    time.sleep(0.2)  # the access log is written after the response
    return {line.split()[0] for line in deployment.access_log.read_text().splitlines()}


def test_simultaneous_identical_requests_place_one_call(deployment):
    last = last_attempt(deployment)
    # the same number from 50 clients: only the number's cooldown may stop them
    messages = simultaneously(deployment, [("(617) 523-2338", f"198.51.100.{n}") for n in range(REQUESTS)])

    assert messages.count("The call's been placed.") == 1, Counter(messages)
    assert messages.count("Sorry, you're calling too quickly.") == REQUESTS - 1, Counter(messages)
    assert outcomes(deployment, last, PHONE) == {"placed": 1, "throttled": REQUESTS - 1}
    assert len(served_by(deployment)) >= 2, "all requests were served by one process"


def test_one_client_gets_exactly_its_rate_across_processes(deployment):
    if time.time() % 60 > 50:  # all 50 requests in one minute's window
        time.sleep(61 - time.time() % 60)
    last = last_attempt(deployment)
    messages = simultaneously(deployment, [(f"+1617555{n:04d}", "203.0.113.7") for n in range(REQUESTS)])

    assert messages.count("The call's been placed.") == CLIENT_RATE, Counter(messages)
    assert messages.count("Sorry, you're calling too quickly.") == REQUESTS - CLIENT_RATE, Counter(messages)
    assert outcomes(deployment, last) == {"placed": CLIENT_RATE, "throttled": REQUESTS - CLIENT_RATE}
