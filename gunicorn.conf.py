"""Gunicorn settings for Click-to-Call, read from the environment.

    gunicorn -c gunicorn.conf.py

| variable | default | meaning |
|---|---|---|
| ``GUNICORN_BIND`` | ``127.0.0.1:8000`` (``0.0.0.0:$PORT`` when ``PORT`` is set) | where to listen |
| ``WEB_CONCURRENCY`` | 2 × CPUs + 1 | worker processes |
| ``GUNICORN_THREADS`` | 1 | threads per worker (more than 1 uses the ``gthread`` worker) |
| ``GUNICORN_TIMEOUT`` | 30 | seconds before a silent worker is restarted |
| ``GUNICORN_MAX_REQUESTS`` | 0 (never) | restart a worker after this many requests (with jitter) |
| ``FORWARDED_ALLOW_IPS`` | ``127.0.0.1`` | proxies whose ``X-Forwarded-Proto`` is believed |

The access log leaves out query strings: ``/outgoing?phone=…`` would write visitors'
numbers to the log.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "project.wsgi:application"
_port = os.environ.get("PORT", "").strip()
bind = [os.environ.get("GUNICORN_BIND") or (f"0.0.0.0:{_port}" if _port else "127.0.0.1:8000")]
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
preload_app = os.environ.get("GUNICORN_PRELOAD", "0").strip().lower() in {"1", "true", "yes", "on"}

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# remote address, time, method, path WITHOUT the query string, status, bytes, duration (µs)
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)sus'
