"""The environment of a project process a test starts (manage.py, gunicorn, a settings probe)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT_PREFIXES = ("DJANGO_", "CLICKTOCALL_", "DATABASE_", "AXES_", "REDIS_", "PYTEST_")


def project_env(**env: str) -> dict[str, str]:
    """This process's environment without the variables the project reads (nor pytest's), then ``env``."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}, **env}


def free_port() -> int:
    """A loopback port nothing listens on, for a server the test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ROOT = Path(__file__).resolve().parents[1]


def start_gunicorn(
    env: dict[str, str], log_dir: Path, workers: int = 4, port: int | None = None
) -> tuple[subprocess.Popen, int]:
    """Gunicorn serving the project from ``workers`` processes (4 threads each), once every worker answers.

    Logs go to ``log_dir``: ``access.log`` (``PID STATUS`` per request), ``error.log``
    (gunicorn's) and ``server.log`` (what the processes print, Django's logs included).
    """
    port = port or free_port()
    with (log_dir / "server.log").open("ab") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "project.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--preload",
                "--access-logfile",
                str(log_dir / "access.log"),
                "--access-logformat",
                "%(p)s %(s)s",
                "--error-logfile",
                str(log_dir / "error.log"),
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
        )
    deadline = time.monotonic() + 60
    log = log_dir / "error.log"
    while True:
        booted = log.read_text().count("Booting worker") if log.exists() else 0
        if booted >= workers:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("OPTIONS", "/outgoing")
                if conn.getresponse().status == 200:
                    return process, port
            except OSError:
                pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            pytest.fail("gunicorn did not start: " + (log.read_text() if log.exists() else ""))
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    """End a server the test started: SIGTERM, then SIGKILL after 20 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def current_database_url() -> str:
    """The URL of the PostgreSQL database this test runs on, for the processes the test starts."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def shared_cache_env() -> dict[str, str] | None:
    """The environment that gives a process this test's Redis cache (same server, same key prefix), or None."""
    from django.conf import settings

    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("RedisCache"):
        return None
    return {"REDIS_URL": config["LOCATION"], "DJANGO_CACHE_KEY_PREFIX": config.get("KEY_PREFIX", "")}
