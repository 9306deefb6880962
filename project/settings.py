"""Settings of the Click-to-Call project, read from the environment.

The defaults suit development (SQLite, console telephony, DEBUG on). In production set
``DJANGO_DEBUG=0``, ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` and the rest; see the
README's deployment guide.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_number(name: str, default: float, kind: type = int, what: str = "a whole number"):
    value = os.environ.get(name, "").strip()
    try:
        return kind(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, not {value!r}") from None


def env_int(name: str, default: int) -> int:
    return env_number(name, default)


def env_float(name: str, default: float) -> float:
    return env_number(name, default, float, "a number")


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "project.admin.ClickToCallAdminConfig",  # django.contrib.admin, branded (project/admin.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "corsheaders",
    "axes",
    "drf_spectacular",
    "django_tasks_db",
    "clicktocall",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "project.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The request path's own statements (clicktocall.rows: the attempt's INSERT, the queued
    # attempt with its task, the placed call's UPDATE) bind their parameters on the server
    # and are prepared on each connection after this many runs, so PostgreSQL plans them
    # once per connection, not on every request. Django's own queries are never prepared.
    # "off" behind a pooler in transaction mode that does not keep prepared statements
    # (PgBouncer before 1.21, or its max_prepared_statements = 0).
    _prepare = os.environ.get("DATABASE_PREPARE_THRESHOLD", "").strip().lower()
    DATABASES["default"]["OPTIONS"] = {
        "prepare_threshold": None if _prepare in ("off", "none") else env_int("DATABASE_PREPARE_THRESHOLD", 0),
        **DATABASES["default"].get("OPTIONS", {}),
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several server processes share the file. A transaction takes the write lock when it
    # begins (IMMEDIATE), so it never fails upgrading a read lock; a writer waits up to
    # DATABASE_SQLITE_TIMEOUT seconds for the lock instead of failing with "database is
    # locked". In WAL mode readers never wait for the writer.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("DATABASE_SQLITE_TIMEOUT", 20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        **DATABASES["default"].get("OPTIONS", {}),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles"
# whitenoise serves the collected files (compressed, with hashed names and far-future
# caching when DEBUG is off; run `manage.py collectstatic` at deploy time).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_AUTOREFRESH = DEBUG  # development: serve files from the apps, rescanned per request
WHITENOISE_USE_FINDERS = DEBUG

# Tasks (queued placement): run at once in the process by default; in production the
# database backend, whose queue survives restarts, with `manage.py db_worker` running.
TASK_BACKEND_ALIASES = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
_tasks_backend = os.environ.get("DJANGO_TASKS_BACKEND", "").strip() or "immediate"
TASKS = {"default": {"BACKEND": TASK_BACKEND_ALIASES.get(_tasks_backend, _tasks_backend)}}

# REST framework: /outgoing chooses its own renderers; nothing else is exposed.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}

# CORS for /outgoing only, from any origin, without credentials.
CORS_URLS_REGEX = r"^/outgoing/?$"
CORS_ALLOWED_ORIGINS = env_list("CLICKTOCALL_CORS_ORIGINS")
CORS_ALLOW_ALL_ORIGINS = not CORS_ALLOWED_ORIGINS
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "OPTIONS", "POST"]
CORS_PREFLIGHT_MAX_AGE = 86400

# Click-to-Call
CLICKTOCALL_TELEPHONY_BACKEND = os.environ.get("CLICKTOCALL_TELEPHONY_BACKEND", "console")
CLICKTOCALL_PUBLIC_URL = os.environ.get("CLICKTOCALL_PUBLIC_URL", "http://127.0.0.1:8000")
CLICKTOCALL_DEFAULT_REGION = os.environ.get("CLICKTOCALL_DEFAULT_REGION", "US")
CLICKTOCALL_REDIRECT_HOSTS = env_list("CLICKTOCALL_REDIRECT_HOSTS")
CLICKTOCALL_TRUSTED_PROXIES = env_int("CLICKTOCALL_TRUSTED_PROXIES", 0)
CLICKTOCALL_IPV6_PREFIX = env_int("CLICKTOCALL_IPV6_PREFIX", 64)
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "https://api.twilio.com")
CLICKTOCALL_RING_TIMEOUT = env_int("CLICKTOCALL_RING_TIMEOUT", 30)
CLICKTOCALL_PLACEMENT = os.environ.get("CLICKTOCALL_PLACEMENT", "direct")
CLICKTOCALL_PLACEMENT_RETRIES = env_int("CLICKTOCALL_PLACEMENT_RETRIES", 4)
try:
    CLICKTOCALL_PLACEMENT_BACKOFF = float(os.environ.get("CLICKTOCALL_PLACEMENT_BACKOFF") or 2)
except ValueError:
    raise ImproperlyConfigured("CLICKTOCALL_PLACEMENT_BACKOFF must be a number of seconds") from None
CLICKTOCALL_LOG_FULL_NUMBERS = env_bool("CLICKTOCALL_LOG_FULL_NUMBERS", False)
CLICKTOCALL_US_DATA_MAX_AGE_DAYS = env_int("CLICKTOCALL_US_DATA_MAX_AGE_DAYS", 180)
# Webhooks may reach internal addresses only on these hosts (e.g. a CRM inside the network).
CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS = env_list("CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS")


# The provider account's calls per second (0: no pacing) and the longest a call may wait for its turn.
CLICKTOCALL_PROVIDER_CPS = env_float("CLICKTOCALL_PROVIDER_CPS", 1.0)
CLICKTOCALL_MAX_QUEUE_WAIT = env_float("CLICKTOCALL_MAX_QUEUE_WAIT", 120.0)

# Production hardening: on whenever DEBUG is off.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("DJANGO_BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

# Abuse protection and the security of the admin: see SECURITY.md.
# Pages in the wild post to //HOST/outgoing from http:// pages too; the request has
# crossed the network by the time it could be redirected, and a redirected POST loses
# its body, so /outgoing answers on http as well. Everything else is redirected.
SECURE_REDIRECT_EXEMPT = [r"^outgoing/?$"]
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_COOKIE_AGE", 8 * 3600)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}


def cache_from_url(url: str) -> dict:
    """``locmem://`` (default), ``redis://host:6379/0`` (or ``rediss://``) or ``db://table``."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else url.lower()
    prefix = os.environ.get("DJANGO_CACHE_KEY_PREFIX", "ctc")
    if scheme in ("redis", "rediss", "unix"):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    if scheme == "db":
        table = url.split("://", 1)[1].strip("/") or "clicktocall_cache"
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": table, "KEY_PREFIX": prefix}
    if scheme in ("", "locmem"):
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "KEY_PREFIX": prefix}
    raise ImproperlyConfigured(f"DJANGO_CACHE_URL: unknown cache {url!r} (use locmem://, redis://… or db://table)")


# The cache: Redis in production (REDIS_URL, or DJANGO_CACHE_URL for another kind), shared
# by every server process; local memory (one process) by default.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
CACHES = {"default": cache_from_url(os.environ.get("DJANGO_CACHE_URL", "").strip() or REDIS_URL)}

# Cooldowns and rate counters live in that cache when it is Redis (or Memcached), else in
# the database: never in one process's memory (see clicktocall/limits.py).
CLICKTOCALL_LIMIT_STORE = os.environ.get("CLICKTOCALL_LIMIT_STORE", "auto")
CLICKTOCALL_COOLDOWN_SECONDS = env_int("CLICKTOCALL_COOLDOWN_SECONDS", 180)
CLICKTOCALL_IP_RATE = os.environ.get("CLICKTOCALL_IP_RATE", "10/m,60/h,200/d")
CLICKTOCALL_PHONE_RATE = os.environ.get("CLICKTOCALL_PHONE_RATE", "6/h,20/d")
CLICKTOCALL_DAILY_CAP = env_int("CLICKTOCALL_DAILY_CAP", 2000)
CLICKTOCALL_ALLOWED_COUNTRIES = env_list("CLICKTOCALL_ALLOWED_COUNTRIES")
CLICKTOCALL_REFUSED_RECORDS_PER_HOUR = env_int("CLICKTOCALL_REFUSED_RECORDS_PER_HOUR", 100)

# Admin login throttling (django-axes): an address that fails AXES_FAILURE_LIMIT times
# is locked out for AXES_COOLOFF_MINUTES; the address is read like /outgoing reads it.
AUTHENTICATION_BACKENDS = [
    "clicktocall.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "clicktocall.auth.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"masking": {"()": "clicktocall.logs.MaskingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["masking"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "clicktocall": {
            "handlers": ["console"],
            "level": os.environ.get("CLICKTOCALL_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
    },
}
