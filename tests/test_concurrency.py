"""50 simultaneous identical requests, across several server processes, place exactly one call.

Gunicorn serves the project from four worker processes (four threads each) against
PostgreSQL, with the cooldown kept in a shared cache: Redis, or the database cache. The
console telephony backend places the calls; the placed attempts are counted in the
database, which every process shares. Skipped when PostgreSQL (or, for its case, Redis)
does not answer.

    CLICKTOCALL_TEST_POSTGRES_URL   default postgres://postgres@127.0.0.1:5432/clicktocall_concurrency
    CLICKTOCALL_TEST_REDIS_URL      default redis://127.0.0.1:6379/15
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest

from .processes import free_port, project_env

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "CLICKTOCALL_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/clicktocall_concurrency"
)
REDIS_URL = os.environ.get("CLICKTOCALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
if os.environ.get("PYTEST_XDIST_WORKER"):  # one database per xdist worker: migrations do not race
    _parts = urlsplit(POSTGRES_URL)
    POSTGRES_URL = urlunsplit(_parts._replace(path=f"{_parts.path}_{os.environ['PYTEST_XDIST_WORKER']}"))
DB_CACHE = "db://clicktocall_cache"
WORKERS = 4
REQUESTS = 50
LINE = "+18559299898"
PHONE = "+16175232338"


def _env(**extra: str) -> dict[str, str]:
    env = project_env(
        DATABASE_URL=POSTGRES_URL,
        DJANGO_DEBUG="1",
        CLICKTOCALL_TELEPHONY_BACKEND="console",
        CLICKTOCALL_LOG_LEVEL="ERROR",
        CLICKTOCALL_COOLDOWN_SECONDS="180",
        CLICKTOCALL_IP_RATE="off",  # only the cooldown may stop the requests
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


def _connect(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password or None, dbname=parts.path.lstrip("/"), connect_timeout=3, autocommit=True,
    )


@pytest.fixture(scope="module")
def database():
    """A new test database, migrated, with one campaign line (an earlier run's is dropped)."""
    import psycopg

    name = urlsplit(POSTGRES_URL).path.lstrip("/")
    try:
        with _connect(urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/postgres"))) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL does not answer at {POSTGRES_URL}: {exc}")
    _manage("migrate", "--noinput")
    _manage("createcachetable", DJANGO_CACHE_URL=DB_CACHE)
    _manage("clicktocall_line", LINE, "--name", "Concurrency")
    with _connect(POSTGRES_URL) as connection:
        yield connection


def _redis_answers() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def server(database, request, tmp_path):
    """Gunicorn with several worker processes sharing ``request.param``'s cache."""
    cache_url = request.param
    if cache_url.startswith("redis") and not _redis_answers():
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    port = free_port()
    access_log = tmp_path / "access.log"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "project.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--worker-class", "gthread", "--threads", "4",
            "--preload", "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s",
            "--error-logfile", str(tmp_path / "error.log"),
        ],
        cwd=ROOT,
        env=_env(DJANGO_CACHE_URL=cache_url, DJANGO_CACHE_KEY_PREFIX=uuid.uuid4().hex),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            log = tmp_path / "error.log"
            booted = log.read_text().count("Booting worker") if log.exists() else 0
            if booted >= WORKERS:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("OPTIONS", "/outgoing")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
            assert process.poll() is None, (tmp_path / "error.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        yield port, access_log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ask(port: int, barrier: threading.Barrier, results: list) -> None:
    body = urlencode({"phone": "(617) 523-2338", "campaign_line": "8559299898"})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.connect()
    barrier.wait()
    conn.request("POST", "/outgoing", body, {"Content-Type": "application/x-www-form-urlencoded",
                                             "Accept": "application/json"})
    response = conn.getresponse()
    results.append((response.status, json.loads(response.read())))
    conn.close()


@pytest.mark.parametrize("server", [REDIS_URL, DB_CACHE], indirect=True, ids=["redis", "database-cache"])
def test_simultaneous_identical_requests_place_one_call(server, database):
    port, access_log = server
    line_id = database.execute("SELECT id FROM clicktocall_campaignline WHERE phone_number = %s", [LINE]).fetchone()[0]
    last = database.execute("SELECT coalesce(max(id), 0) FROM clicktocall_callattempt").fetchone()[0]

    barrier = threading.Barrier(REQUESTS)
    results: list = []
    threads = [threading.Thread(target=_ask, args=(port, barrier, results)) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    messages = sorted(body["message"] for _status, body in results)
    assert len(results) == REQUESTS
    assert messages.count("The call's been placed.") == 1, messages
    assert messages.count("Sorry, you're calling too quickly.") == REQUESTS - 1, messages

    outcomes = dict(
        database.execute(
            "SELECT outcome, count(*) FROM clicktocall_callattempt WHERE id > %s AND line_id = %s AND phone = %s "
            "GROUP BY outcome",
            [last, line_id, PHONE],
        ).fetchall()
    )
    assert outcomes == {"placed": 1, "throttled": REQUESTS - 1}

    time.sleep(0.2)  # the access log is written after the response
    pids = {line.split()[0] for line in access_log.read_text().splitlines() if line.endswith(" 200") or " 400" in line}
    assert len(pids) >= 2, f"all requests were served by one process ({pids})"
