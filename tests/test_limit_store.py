"""The two limit stores keep the same promises; the settings choose the one shared by every process.

The cache store runs on the test cache (local memory, or Redis on the PostgreSQL pass);
the database store on the test database (SQLite, or PostgreSQL). That several processes
agree is shown against real server processes in test_concurrency.py.
"""

from __future__ import annotations

import time

import pytest
import redis
from django.core import checks
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clicktocall import limits
from clicktocall.models import LimitCounter

pytestmark = pytest.mark.django_db

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


@pytest.fixture(params=["cache", "database"])
def store(request, settings, monkeypatch):
    settings.CLICKTOCALL_LIMIT_STORE = request.param
    clock = [1_800_000_000.25]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    store = limits.store()
    store.clock = clock
    return store


def test_a_cooldown_is_taken_once_until_it_ends(store):
    name = limits.key("cooldown", 1, "+16175232338")
    assert store.take_cooldown(name, 180) is None
    assert store.take_cooldown(name, 180) == 180
    store.clock[0] += 100
    assert store.take_cooldown(name, 180) == 80
    store.clock[0] += 81
    if isinstance(store, limits.CacheStore) and limits.cache_is_shared():
        pytest.skip("Redis's own clock decides when its entry expires")
    assert store.take_cooldown(name, 180) is None


def test_a_released_cooldown_can_be_taken_again(store):
    name = limits.key("cooldown", 1, "+16175232338")
    assert store.take_cooldown(name, 180) is None
    store.release(name)
    assert store.take_cooldown(name, 180) is None
    assert store.take_cooldown(name, 180) is not None
    assert store.take_cooldown(limits.key("cooldown", 2, "+16175232338"), 180) is None  # another line


def test_rates_count_in_fixed_windows(store):
    rates = limits.parse_rates("3/m,5/h")  # the clock stands 0.25 s into a minute and an hour
    assert [store.hit("ip", "198.51.100.9", rates) for _ in range(3)] == [None] * 3
    assert store.hit("ip", "198.51.100.9", rates) == 60  # until the minute ends
    assert store.hit("ip", "198.51.100.10", rates) is None  # another client
    store.clock[0] += 60  # the next minute; the hour let 3 through, a refused request does not count
    assert [store.hit("ip", "198.51.100.9", rates) for _ in range(2)] == [None] * 2
    assert store.hit("ip", "198.51.100.9", rates) == 3600 - 60


def test_the_daily_cap_counts_what_it_lets_through(store):
    assert [store.count_today("line", 7, 2) for _ in range(2)] == [None, None]
    refused = [store.count_today("line", 7, 2) for _ in range(3)]
    assert all(wait is not None and 0 < wait <= 86400 for wait in refused)
    assert store.count_today("line", 8, 2) is None  # another line
    assert store.count_today("line", 7, 0) is None  # no cap


def test_the_database_store_keeps_no_number_in_clear(settings):
    settings.CLICKTOCALL_LIMIT_STORE = "database"
    limits.take_cooldown(limits.key("cooldown", 1, "+16175232338"), 180)
    limits.hit("phone", "+16175232338", limits.parse_rates("6/h"))
    keys = list(LimitCounter.objects.values_list("key", flat=True))
    assert len(keys) == 2 and not any("6175232338" in key for key in keys)


def test_the_database_store_deletes_expired_rows(settings, monkeypatch):
    settings.CLICKTOCALL_LIMIT_STORE = "database"
    store = limits.store()
    now = time.time()
    store.take_cooldown("clicktocall:cooldown:short", 10)
    store.take_cooldown("clicktocall:cooldown:long", 1000)
    monkeypatch.setattr(limits.DatabaseStore, "PURGE_CHANCE", 1.0)
    monkeypatch.setattr(time, "time", lambda: now + 11)
    store.hit("ip", "198.51.100.9", limits.parse_rates("5/m"))
    assert sorted(LimitCounter.objects.values_list("key", flat=True)) == [
        "clicktocall:cooldown:long",
        limits.key("ip", "198.51.100.9", limits.Rate(5, 60), int((now + 11) // 60)),
    ]


@pytest.mark.parametrize(
    ("caches", "choice", "expected"),
    [
        (LOCMEM, "auto", "database"),  # a per-process cache never holds a limit
        ({"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t"}}, "auto", "database"),
        (
            {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": "/x"}},
            "auto",
            "database",
        ),
        (REDIS, "auto", "cache"),
        ({"default": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"}}, "auto", "cache"),
        (REDIS, "database", "database"),
        (LOCMEM, "cache", "cache"),
    ],
)
def test_where_the_limits_live(settings, caches, choice, expected):
    settings.CACHES = caches
    settings.CLICKTOCALL_LIMIT_STORE = choice
    assert limits.store_name() == expected


def run_checks(deploy: bool = False) -> set[str]:
    return {message.id for message in checks.run_checks(include_deployment_checks=deploy)}


def test_check_deploy_reports_limits_in_a_per_process_cache(settings):
    settings.CACHES = LOCMEM
    settings.CLICKTOCALL_LIMIT_STORE = "cache"
    assert "clicktocall.E107" in run_checks(deploy=True)
    assert "clicktocall.E107" not in run_checks()  # one development process may keep them
    settings.CLICKTOCALL_LIMIT_STORE = "auto"
    assert "clicktocall.E107" not in run_checks(deploy=True)
    settings.CACHES = REDIS
    settings.CLICKTOCALL_LIMIT_STORE = "cache"
    assert "clicktocall.E107" not in run_checks(deploy=True)


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("CLICKTOCALL_LIMIT_STORE", "redis", "clicktocall.E105"),
        ("CLICKTOCALL_IPV6_PREFIX", 0, "clicktocall.E104"),
        ("CLICKTOCALL_IPV6_PREFIX", 129, "clicktocall.E104"),
        ("CLICKTOCALL_IPV6_PREFIX", "x", "clicktocall.E104"),
    ],
)
def test_checks_report_bad_limit_settings(settings, name, value, check_id):
    assert check_id not in run_checks()
    setattr(settings, name, value)
    assert check_id in run_checks()


def test_limits_in_the_database_cost_one_statement_each(client, line, outbox, limits, settings):
    """Two client rates, the cooldown, two number rates and the cap: six statements over the budget of 3."""
    settings.CLICKTOCALL_LIMIT_STORE = "database"
    settings.CLICKTOCALL_IP_RATE = "5/m,30/h"
    settings.CLICKTOCALL_PHONE_RATE = "6/h,20/d"
    request = {"phone": "617-523-2338", "campaign_line": "8559299898"}
    assert client.post("/outgoing", {**request, "phone": "617-523-0000"}).json()["error"] is False  # warm up
    with CaptureQueriesContext(connection) as queries:
        assert client.post("/outgoing", request).json()["error"] is False
    limit_statements = [q["sql"] for q in queries if LimitCounter._meta.db_table in q["sql"]]
    assert len(limit_statements) == 6, limit_statements
    assert len(queries) <= 3 + 6, [q["sql"] for q in queries]


def _redis_or_skip():
    if not limits.cache_is_shared() or limits.redis_client() is None:
        pytest.skip("needs the limits in Redis (the PostgreSQL + Redis pass)")
    return limits.redis_client()


def _cooldown_steps(n: int) -> list[limits.Step]:
    return [limits.Hold(limits.key("cooldown", n, "+16175232338"), 60)]


def test_the_limits_script_is_loaded_again_when_the_server_forgot_it(settings):
    settings.CLICKTOCALL_LIMIT_STORE = "cache"
    client = _redis_or_skip()
    steps = _cooldown_steps(901)
    assert limits.take(steps).refused is None
    client.script_flush()  # as after a restart of the server
    assert limits.take(steps).refused == 0  # the cooldown taken above refuses: the script ran
    assert limits.take(_cooldown_steps(902)).refused is None


def test_the_limits_script_survives_a_connection_the_server_closed(settings, monkeypatch):
    """The server closes the connection after the pool handed it out, before the script is sent
    (a restart, an idle timeout): the script is sent again on a new connection."""
    settings.CLICKTOCALL_LIMIT_STORE = "cache"
    client = _redis_or_skip()
    assert limits.take(_cooldown_steps(903)).refused is None
    pool = client.connection_pool
    killer = redis.Redis(**{k: v for k, v in pool.connection_kwargs.items() if k in ("host", "port", "db")})
    get_connection, killed = pool.get_connection, []

    def closed_by_the_server(*args, **kwargs):
        connection = get_connection(*args, **kwargs)
        if not killed:
            connection.send_command("CLIENT", "ID")
            killed.append(killer.client_kill_filter(_id=connection.read_response()))
            time.sleep(0.05)  # the server's close has arrived
        return connection

    monkeypatch.setattr(pool, "get_connection", closed_by_the_server)
    try:
        assert limits.take(_cooldown_steps(903)).refused == 0  # the cooldown taken above: the script ran
    finally:
        killer.close()
    assert killed == [1]
    assert limits.take(_cooldown_steps(904)).refused is None
