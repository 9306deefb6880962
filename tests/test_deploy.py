"""Production settings: ``check --deploy`` is clean, secrets and limits come from the environment."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from .processes import project_env

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=project_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "calls.example.org",
    "DJANGO_CACHE_URL": "db://clicktocall_cache",
}


def test_check_deploy_is_clean_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_flags_debug_on():
    """The test above would catch a regression: the same check complains about development settings."""
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], DJANGO_DEBUG="1")
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout  # DEBUG on


def test_production_refuses_to_start_without_a_secret_key():
    result = run(["manage.py", "check"], DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="x")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


SHOW = """
import json, django
django.setup()
from django.conf import settings as s
from clicktocall.conf import conf
from clicktocall.limits import store_name
print(json.dumps({
    "ssl_redirect": s.SECURE_SSL_REDIRECT, "hsts": s.SECURE_HSTS_SECONDS, "session_secure": s.SESSION_COOKIE_SECURE,
    "csrf_secure": s.CSRF_COOKIE_SECURE, "proxy_ssl": list(getattr(s, "SECURE_PROXY_SSL_HEADER", None) or []),
    "redirect_exempt": s.SECURE_REDIRECT_EXEMPT, "secret": s.SECRET_KEY,
    "cooldown": conf.COOLDOWN_SECONDS, "ip_rate": conf.IP_RATE, "phone_rate": conf.PHONE_RATE,
    "daily_cap": conf.DAILY_CAP, "countries": conf.ALLOWED_COUNTRIES, "proxies": conf.TRUSTED_PROXIES,
    "axes_limit": s.AXES_FAILURE_LIMIT, "axes_cooloff": s.AXES_COOLOFF_TIME.total_seconds(),
    "cache": s.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1], "cache_location": s.CACHES["default"].get("LOCATION"),
    "limit_store": store_name(), "ipv6_prefix": conf.IPV6_PREFIX,
    "sqlite_options": s.DATABASES["default"].get("OPTIONS", {}),
}))
"""


def show(**env: str) -> dict:
    result = run(["-c", SHOW], DJANGO_SETTINGS_MODULE="project.settings", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_https_settings_in_production():
    values = show(**PRODUCTION)
    assert values["ssl_redirect"] and values["hsts"] >= 31536000
    assert values["session_secure"] and values["csrf_secure"]
    assert values["proxy_ssl"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["redirect_exempt"] == [r"^outgoing/?$"]  # pages post to //HOST/outgoing from http too
    assert values["secret"] == PRODUCTION["DJANGO_SECRET_KEY"]


def test_limits_and_their_defaults():
    values = show()
    assert (values["cooldown"], values["ip_rate"], values["phone_rate"], values["daily_cap"]) == (
        180,
        "10/m,60/h,200/d",
        "6/h,20/d",
        2000,
    )
    assert (values["countries"], values["proxies"], values["cache"]) == ([], 0, "LocMemCache")
    assert (values["limit_store"], values["ipv6_prefix"]) == ("database", 64)  # no shared cache: the database
    assert values["sqlite_options"]["transaction_mode"] == "IMMEDIATE"
    assert values["sqlite_options"]["timeout"] == 20


def test_every_limit_has_an_environment_override():
    values = show(
        CLICKTOCALL_COOLDOWN_SECONDS="60",
        CLICKTOCALL_IP_RATE="10/m",
        CLICKTOCALL_PHONE_RATE="off",
        CLICKTOCALL_DAILY_CAP="50",
        CLICKTOCALL_ALLOWED_COUNTRIES="us, ca",
        CLICKTOCALL_TRUSTED_PROXIES="2",
        AXES_FAILURE_LIMIT="10",
        AXES_COOLOFF_MINUTES="5",
        DJANGO_CACHE_URL="redis://127.0.0.1:6379/4",
        CLICKTOCALL_IPV6_PREFIX="56",
        DATABASE_SQLITE_TIMEOUT="5",
    )
    assert (values["cooldown"], values["ip_rate"], values["phone_rate"], values["daily_cap"]) == (60, "10/m", "off", 50)
    assert (values["countries"], values["proxies"]) == (["US", "CA"], 2)
    assert (values["axes_limit"], values["axes_cooloff"]) == (10, 300)
    assert (values["cache"], values["cache_location"]) == ("RedisCache", "redis://127.0.0.1:6379/4")
    assert (values["limit_store"], values["ipv6_prefix"], values["sqlite_options"]["timeout"]) == ("cache", 56, 5)
    assert show(CLICKTOCALL_LIMIT_STORE="database", DJANGO_CACHE_URL="redis://x")["limit_store"] == "database"


def test_check_deploy_refuses_a_per_process_cache():
    """Without REDIS_URL or DJANGO_CACHE_URL the cache is each process's own memory."""
    result = run(["manage.py", "check", "--deploy"], **{k: v for k, v in PRODUCTION.items() if k != "DJANGO_CACHE_URL"})
    assert result.returncode != 0
    assert "clicktocall.E108" in result.stderr + result.stdout


def test_check_deploy_refuses_limits_in_a_per_process_cache():
    result = run(["manage.py", "check", "--deploy"], **PRODUCTION, CLICKTOCALL_LIMIT_STORE="cache")
    assert result.returncode != 0
    assert "clicktocall.E107" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"CLICKTOCALL_IP_RATE": "lots"}, "clicktocall.E101"),
        ({"CLICKTOCALL_PHONE_RATE": "5/fortnight"}, "clicktocall.E101"),
        ({"CLICKTOCALL_ALLOWED_COUNTRIES": "USA"}, "clicktocall.E102"),
        ({"DJANGO_CACHE_URL": "memcached://x"}, "DJANGO_CACHE_URL"),
    ],
)
def test_bad_limit_settings_are_reported(env, error):
    result = run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert error in result.stderr + result.stdout
