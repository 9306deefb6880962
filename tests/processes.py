"""The environment of a project process a test starts (manage.py, gunicorn, a settings probe)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


def current_database_url() -> str:
    """The URL of the database this test runs on (PostgreSQL), for processes the test starts."""
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "") + "@" if s["USER"] else ""
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def shared_cache_env() -> dict[str, str] | None:
    """The environment that gives a process this test's Redis cache (same server, same key prefix), or None."""
    from django.conf import settings

    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("RedisCache"):
        return None
    return {"REDIS_URL": config["LOCATION"], "DJANGO_CACHE_KEY_PREFIX": config.get("KEY_PREFIX", "")}


@contextmanager
def gunicorn(env: dict[str, str], log: Path, workers: int = 1) -> Iterator[int]:
    """The project served by gunicorn on a free loopback port, with ``env``; yields the port."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "project.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--error-logfile", str(log)]
    process = subprocess.Popen(command, cwd=ROOT, env=project_env(**env))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, log.read_text() if log.exists() else "gunicorn exited"
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
