"""Production settings from the environment, whitenoise, gunicorn and the Redis cache."""

from __future__ import annotations

import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.cache import cache

from .processes import free_port, project_env

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "project" / "settings.py"
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-production-secret-key-for-the-tests-only-0123456789",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
}


def settings_with(monkeypatch, **env: str) -> dict:
    """The project's settings module evaluated with ``env`` (and nothing else) set."""
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_TASKS_BACKEND", "DJANGO_DEBUG", "DJANGO_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_defaults_are_embedded(monkeypatch):
    s = settings_with(monkeypatch)
    assert s["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert s["TASKS"]["default"]["BACKEND"] == "django.tasks.backends.immediate.ImmediateBackend"
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["CLICKTOCALL_PLACEMENT"] == "direct"


def test_production_settings_come_from_the_environment(monkeypatch):
    s = settings_with(
        monkeypatch,
        **PRODUCTION_ENV,
        DATABASE_URL="postgres://ctc:pw@db.internal:5432/clicktocall",
        REDIS_URL="redis://cache.internal:6379/2",
        DJANGO_TASKS_BACKEND="database",
        CLICKTOCALL_PLACEMENT="queued",
    )
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert s["DATABASES"]["default"]["HOST"] == "db.internal"
    assert s["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert s["CACHES"]["default"]["LOCATION"] == "redis://cache.internal:6379/2"
    assert s["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert "django_tasks_db" in s["INSTALLED_APPS"]
    assert s["CLICKTOCALL_PLACEMENT"] == "queued"
    assert s["MIDDLEWARE"][:2] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]
    assert s["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.mark.parametrize(("value", "expected"), [(None, 0), ("3", 3), ("off", None), ("OFF ", None)])
def test_prepared_statements_follow_the_environment_on_postgresql(monkeypatch, value, expected):
    env = {"DATABASE_URL": "postgres://ctc:pw@db.internal:5432/clicktocall"}
    monkeypatch.delenv("DATABASE_PREPARE_THRESHOLD", raising=False)
    if value is not None:
        env["DATABASE_PREPARE_THRESHOLD"] = value
    assert settings_with(monkeypatch, **env)["DATABASES"]["default"]["OPTIONS"]["prepare_threshold"] == expected


def test_a_prepare_threshold_that_is_no_number_is_refused(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="DATABASE_PREPARE_THRESHOLD"):
        settings_with(monkeypatch, DATABASE_URL="postgres://db.internal/ctc", DATABASE_PREPARE_THRESHOLD="soon")


def test_gunicorn_config_reads_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    monkeypatch.setenv("GUNICORN_THREADS", "4")
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:9123")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (config["workers"], config["threads"], config["worker_class"]) == (7, 4, "gthread")
    assert config["bind"] == ["127.0.0.1:9123"] and config["wsgi_app"] == "project.wsgi:application"
    assert "%(U)s" in config["access_log_format"] and "%(r)s" not in config["access_log_format"]


def test_redis_cache_round_trip():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set (the SQLite pass uses the in-process cache)")
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache)
    cache.set("cooldown:+16175232338", 1, timeout=5)
    assert cache.get("cooldown:+16175232338") == 1
    assert cache.incr("cooldown:+16175232338") == 2


def fetch(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_gunicorn_serves_the_app_and_collected_static_files(tmp_path):
    """collectstatic, then gunicorn (2 workers, DEBUG off): whitenoise serves hashed files; no number is logged."""
    port = free_port()
    env = project_env(
        **PRODUCTION_ENV,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["admin/css/base.css"]
    assert hashed != "admin/css/base.css"

    log = (tmp_path / "gunicorn.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        status, headers, body = fetch(f"{base}/static/{hashed}")
        assert status == 200 and b"body" in body
        assert "immutable" in headers["Cache-Control"] and "max-age=315360000" in headers["Cache-Control"]

        status, headers, body = fetch(f"{base}/outgoing?phone=6175232338")
        assert status == 400 and headers["Content-Type"].startswith("application/json")
        assert json.loads(body) == {
            "error": True,
            "message": "Sorry, but you haven't provided any of the info we were expecting.",
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    log.seek(0)
    output = log.read()
    assert output.count("Booting worker") == 2
    assert "request attempt=- line=- phone=+1617***2338 outcome=invalid answer=400" in output
    assert '"GET /outgoing HTTP/1.1" 400' in output
    assert "6175232338" not in output
