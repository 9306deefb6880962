"""HTTP load benchmark: gunicorn on loopback and an asyncio load generator, in one run.

    python -m benchmarks.load [--requests 3000] [--concurrency 16] [--web-workers 4]

Prints, side by side: requests/s and p50/p99 latency of the baseline (a bare DRF view
inserting one row), ``/outgoing`` success (console telephony), ``/outgoing`` rejected
input and JSONP, each with its ratio to the baseline; the SQL queries of each kind of
request; and ``/outgoing`` with a provider that takes 300 ms, placed directly and queued
(with ``db_worker`` processes placing the calls); and ``/outgoing`` with no webhook
endpoint, with one whose receiver answers at once and with one whose receiver is dead
(it accepts connections and never answers), while ``db_worker`` processes deliver.
Requests and durations are bounded; everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .common import LINE, ROOT, ensure_line, environment, percentile, setup_django, table, task_backend

HOST = "127.0.0.1"
# Client addresses come from the benchmarking range (RFC 2544), one per request, through
# a trusted proxy's X-Forwarded-For: each request is its own visitor, as in a real burst.
CLIENT_NETWORK = ipaddress.ip_network("198.18.0.0/15")
NUMBER_SPACE = 400 * 10000  # 617-523-0000 … 617-922-9999
_numbers = itertools.count()
_addresses = itertools.count()
_first = 0
RESERVED_KEY = "clicktocall-bench:numbers"


def reserve_numbers(count: int) -> int:
    """Take ``count`` numbers and addresses no earlier run used; returns the first.

    The counter lives in the cache that holds the limits: a second run does not reuse
    the numbers of the first inside their cooldown, and when the cache is emptied the
    cooldowns go with it.
    """
    global _first, _numbers, _addresses
    from django.core.cache import cache

    cache.add(RESERVED_KEY, 0, timeout=None)
    _first = (cache.incr(RESERVED_KEY, count) - count) % NUMBER_SPACE
    _numbers, _addresses = itertools.count(), itertools.count()
    return _first


def next_phone() -> str:
    """A different valid number for each request, so no cooldown or limit is hit."""
    n = (_first + next(_numbers)) % NUMBER_SPACE
    return f"617{523 + n // 10000:03d}{n % 10000:04d}"


def next_address() -> str:
    """A different client address for each request (the per-address rate stays at its default)."""
    n = (_first + next(_addresses)) % CLIENT_NETWORK.num_addresses
    return str(CLIENT_NETWORK[n])


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    params: Callable[[], dict[str, str]]
    expect: tuple[int, bytes]  # the status and a fragment of the body

    def raw(self) -> bytes:
        body = urllib.parse.urlencode(self.params())
        if self.method == "GET":
            head = (
                f"GET {self.path}?{body} HTTP/1.1\r\nHost: {HOST}\r\nAccept: */*\r\n"
                f"X-Forwarded-For: {next_address()}\r\nConnection: close\r\n\r\n"
            )
            return head.encode()
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: application/json\r\n"
            f"X-Forwarded-For: {next_address()}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        return head.encode() + body.encode()


PLACED = b"The call's been placed."
SCENARIOS = [
    Scenario(
        "baseline: DRF view, one INSERT",
        "POST",
        "/bench/baseline/",
        lambda: {"campaign_line": LINE, "phone": "+1" + next_phone()},
        (200, b'"ok"'),
    ),
    Scenario(
        "/outgoing success (console)",
        "POST",
        "/outgoing/",
        lambda: {"campaign_line": "8559299898", "phone": next_phone(), "zip": "02113"},
        (200, PLACED),
    ),
    Scenario(
        "/outgoing rejected input",
        "POST",
        "/outgoing/",
        lambda: {"campaign_line": "8559299898", "phone": "not a number"},
        (400, b"info we were expecting"),
    ),
    Scenario(
        "/outgoing JSONP",
        "GET",
        "/outgoing/",
        lambda: {"campaign_line": "8559299898", "phone": next_phone(), "callback": "jQuery3710_1700000000000"},
        (200, PLACED),
    ),
]


QUEUED_SUCCESS = Scenario("/outgoing success, queued", "POST", "/outgoing/", SCENARIOS[1].params, (200, PLACED))


def knobs(line, pace: str = "") -> str:
    """What the run changes from a production set-up, and the limits it runs under."""
    from clicktocall.conf import conf

    pace = pace or f"{conf.PROVIDER_CPS:,g} calls/s (default 1), taken on every request, never waited for"

    return (
        f"limits at their defaults: cooldown {conf.COOLDOWN_SECONDS} s, per address {conf.IP_RATE}, "
        f"per number {conf.PHONE_RATE}; each request from its own address in {CLIENT_NETWORK} through a "
        f"trusted proxy (X-Forwarded-For, CLICKTOCALL_TRUSTED_PROXIES={conf.TRUSTED_PROXIES}), each with a "
        f"number no earlier run used (from +1617{523 + _first // 10000:03d}{_first % 10000:04d})\n"
        f"knobs: the benchmark line's daily cap is {line.daily_cap:,} (default {conf.DAILY_CAP:,} a day); "
        f"the provider's pace is {pace}"
    )


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def merge(self, other: Stats) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds


async def _one(port: int, raw: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(raw)
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    return int(data[9:12] or 0), data


async def timed(port: int, raw: bytes) -> tuple[float, int, bytes] | None:
    """One request: (seconds taken, status, answer), or None when the connection failed."""
    start = time.perf_counter()
    try:
        status, data = await _one(port, raw)
    except OSError:
        return None
    return time.perf_counter() - start, status, data


async def _load(port: int, scenario: Scenario, total: int, concurrency: int, max_seconds: float) -> Stats:
    stats = Stats()
    remaining = iter(range(total))
    deadline = time.perf_counter() + max_seconds

    async def client() -> None:
        for _ in remaining:
            if time.perf_counter() > deadline:
                return
            answer = await timed(port, scenario.raw())
            if answer is None:
                stats.errors += 1
                continue
            seconds, status, data = answer
            stats.latencies.append(seconds)
            if status != scenario.expect[0] or scenario.expect[1] not in data:
                stats.errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    stats.seconds = time.perf_counter() - start
    return stats


def load(port: int, scenario: Scenario, total: int, concurrency: int, max_seconds: float = 60.0) -> Stats:
    """``total`` requests of ``scenario``, ``concurrency`` at a time, on an event loop of their own."""
    result: list[Stats] = []
    # A thread of its own: the calling thread may already run an event loop (e.g. Playwright's).
    thread = threading.Thread(
        target=lambda: result.append(asyncio.run(_load(port, scenario, total, concurrency, max_seconds)))
    )
    thread.start()
    thread.join()
    if not result:
        raise RuntimeError(f"the load generator failed for {scenario.name!r}")
    return result[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start; see its log") from None
            time.sleep(0.1)


@contextmanager
def gunicorn(env: dict[str, str], workers: int | None, log_path: str, **extra: str) -> Iterator[int]:
    """gunicorn with the project's gunicorn.conf.py on a free loopback port (``workers`` None: its default)."""
    port = free_port()
    server_env = {**os.environ, **env, **extra, "GUNICORN_BIND": f"{HOST}:{port}"}
    server_env.pop("WEB_CONCURRENCY", None)
    if workers is not None:
        server_env["WEB_CONCURRENCY"] = str(workers)
    with open(log_path, "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=server_env,
            stdout=log,
            stderr=log,
        )
    try:
        _wait_for_port(port, process)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


@contextmanager
def task_workers(env: dict[str, str], count: int, log_path: str, **extra: str) -> Iterator[None]:
    """``manage.py db_worker`` processes polling the queue every 50 ms."""
    worker_env = {**os.environ, **env, **extra}
    command = [sys.executable, "manage.py", "db_worker", "--interval", "0.05", "--no-startup-delay"]
    with open(log_path, "a") as log:
        processes = [subprocess.Popen(command, cwd=ROOT, env=worker_env, stdout=log, stderr=log) for _ in range(count)]
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


@contextmanager
def redis_round_trips() -> Iterator[list[int]]:
    """Count the round trips this process makes to Redis in the block (a pipeline is one)."""
    from redis.connection import AbstractConnection

    counted = [0]
    send = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        counted[0] += 1
        return send(self, command, check_health)

    AbstractConnection.send_packed_command = counting
    try:
        yield counted
    finally:
        AbstractConnection.send_packed_command = send


# Not queries of their own: the markers of a transaction (and, in a test, its savepoints).
TRANSACTION_STATEMENTS = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def queries_per_request() -> list[tuple[str, int, int, str]]:
    """SQL queries and Redis round trips of one request of each kind, counted in-process.

    Each request comes from its own address with its own number, like the load's.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client(HTTP_HOST=HOST)
    counted = []

    def accepted() -> dict[str, str]:
        return {"campaign_line": LINE, "phone": next_phone()}

    cases: list[tuple[str, str, str, Callable[[], dict[str, str]], str, int]] = [
        ("baseline", "post", "/bench/baseline/", lambda: {**accepted(), "phone": "+1" + next_phone()}, "direct", 200),
        ("/outgoing success, direct", "post", "/outgoing/", accepted, "direct", 200),
        ("/outgoing success, queued", "post", "/outgoing/", accepted, "queued", 200),
        ("/outgoing rejected input", "post", "/outgoing/", lambda: {**accepted(), "phone": "x"}, "direct", 400),
        ("/outgoing JSONP", "get", "/outgoing/", lambda: {**accepted(), "callback": "f"}, "direct", 200),
    ]
    logging.disable(logging.CRITICAL)  # the servers' logs go to their log file; keep this output to figures
    backends = {
        "direct": "django.tasks.backends.immediate.ImmediateBackend",
        "queued": "django_tasks_db.DatabaseBackend",
    }
    try:
        with override_settings(CLICKTOCALL_TELEPHONY_BACKEND="locmem"):
            for label, method, path, data, mode, expected in cases:
                with task_backend(backends[mode]), override_settings(CLICKTOCALL_PLACEMENT=mode):
                    send = getattr(client, method)
                    send(path, data(), HTTP_ACCEPT="application/json", REMOTE_ADDR=next_address())  # warm caches
                    with CaptureQueriesContext(connection) as queries, redis_round_trips() as trips:
                        response = send(path, data(), HTTP_ACCEPT="application/json", REMOTE_ADDR=next_address())
                problem = f"HTTP {response.status_code}: {response.content[:120]!r}"
                statements = [q for q in queries if not q["sql"].startswith(TRANSACTION_STATEMENTS)]
                counted.append((label, len(statements), trips[0], "" if response.status_code == expected else problem))
    finally:
        logging.disable(logging.NOTSET)
    return counted


@contextmanager
def dead_receiver() -> Iterator[int]:
    """A port that takes connections into its backlog and never answers: every delivery times out."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(4096)
        yield listener.getsockname()[1]


@contextmanager
def live_receiver() -> Iterator[int]:
    """A receiver that answers 204 to every POST, in a thread."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def webhook_rows(env: dict[str, str], args: argparse.Namespace, log_path: str) -> list[list[object]]:
    """``/outgoing`` with no endpoint, with one whose receiver answers at once and with one whose receiver
    is dead, in interleaved rounds against the same servers, while ``db_worker`` processes deliver; then
    with no endpoint and with one, without workers: what the request itself pays."""
    from clicktocall.events.models import Event, WebhookDelivery, WebhookEndpoint

    queued = {"DJANGO_TASKS_BACKEND": "database", "CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS": HOST, **UNLIMITED}
    success = SCENARIOS[1]
    results: dict[str, Stats] = {}

    def rounds(port: int, endpoints: dict[str, object]) -> None:
        """Each label's share of the requests, in interleaved rounds, with only its endpoint active."""
        load(port, success, args.web_workers * 4, args.web_workers)
        per_round = max(1, args.webhook_requests // args.rounds)
        for _ in range(args.rounds):
            for label, active in endpoints.items():
                for endpoint in endpoints.values():
                    if endpoint is not None:  # saving an endpoint drops the subscriptions the servers cache
                        endpoint.is_active = endpoint is active
                        endpoint.save(update_fields=["is_active", "updated_at"])
                stats = results.setdefault(label, Stats())
                stats.merge(load(port, success, per_round, args.concurrency, args.max_seconds))

    WebhookEndpoint.objects.all().delete()
    with dead_receiver() as dead_port, live_receiver() as live_port:
        live, dead = (
            WebhookEndpoint.objects.create(
                url=f"http://{HOST}:{port}/hook", events=list(Event.values), timeout=WEBHOOK_TIMEOUT, is_active=False
            )
            for port in (live_port, dead_port)
        )
        with (
            gunicorn(env, args.web_workers, log_path, **queued) as port,
            task_workers(env, args.task_workers, log_path, **queued),
        ):
            rounds(
                port,
                {
                    "no endpoint": None,
                    "endpoint, live receiver": live,
                    f"endpoint, dead receiver ({WEBHOOK_TIMEOUT} s timeout)": dead,
                },
            )
            deliveries = WebhookDelivery.objects.count()
        with gunicorn(env, args.web_workers, log_path, **queued) as port:
            rounds(port, {"no endpoint, no worker running": None, "endpoint, no worker running": dead})
    WebhookEndpoint.objects.all().delete()  # the workers have stopped
    print(f"{deliveries} webhook deliveries recorded while the workers ran")
    rows = []
    for label, s in results.items():
        if label.startswith("no endpoint"):  # each phase is compared with its own run without an endpoint
            base_p50 = percentile(s.latencies, 0.5) * 1000
        p50, p99 = percentile(s.latencies, 0.5) * 1000, percentile(s.latencies, 0.99) * 1000
        rows.append([label, s.done, s.errors, fmt(s.rps), fmt(p50, 2), fmt(p99, 2), f"{p50 / base_p50:.2f}×"])
    return rows


WEBHOOK_TIMEOUT = 5
# The load comes from one address: no rate limit, cooldown or cap may refuse it.
UNLIMITED = {
    "CLICKTOCALL_IP_RATE": "off",
    "CLICKTOCALL_PHONE_RATE": "off",
    "CLICKTOCALL_COOLDOWN_SECONDS": "0",
    "CLICKTOCALL_DAILY_CAP": "0",
}


def print_webhook_rows(env: dict[str, str], args: argparse.Namespace, log_path: str) -> int:
    """The webhook rows, printed; returns how many requests did not get the expected answer."""
    rows = webhook_rows(env, args, log_path)
    print(
        f"\n/outgoing with webhooks ({args.webhook_requests} requests in {args.rounds} interleaved rounds, "
        f"{args.concurrency} concurrent, {args.web_workers} gunicorn workers, {args.task_workers} db_workers "
        "delivering, then none)"
    )
    print(table(["webhook endpoint", "requests", "errors", "req/s", "p50 ms", "p99 ms", "p50 vs no endpoint"], rows))
    return sum(int(row[2]) for row in rows)


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


@contextmanager
def https_standin(**options) -> Iterator:
    """The Twilio stand-in serving HTTPS with a certificate made for this run (``openssl``)."""
    import ssl

    sys.path.insert(0, str(ROOT))
    from tests.twilio_standin import TwilioStandIn

    with tempfile.TemporaryDirectory() as folder:
        cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                key,
                "-out",
                cert,
            ],
            check=True,
            capture_output=True,
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        server = TwilioStandIn(TWILIO_SID, "benchmark-auth-token", tls=context, **options).start()
        try:
            yield (
                server,
                {
                    "TWILIO_ACCOUNT_SID": TWILIO_SID,
                    "TWILIO_AUTH_TOKEN": "benchmark-auth-token",
                    "TWILIO_API_BASE_URL": server.base_url,
                    "REQUESTS_CA_BUNDLE": cert,
                },
            )
        finally:
            server.stop()


TWILIO_SID = "AC" + "b" * 32


def twilio_keepalive(env: dict[str, str], args: argparse.Namespace, log_path: str) -> int:
    """/outgoing with the Twilio backend against an HTTPS stand-in: a kept client against a new one per call."""
    success = SCENARIOS[1]
    kept = {"CLICKTOCALL_TELEPHONY_BACKEND": "twilio"}
    fresh = {"CLICKTOCALL_TELEPHONY_BACKEND": "benchmarks.backends.NewClientPerCallTwilioBackend"}
    names = ["Twilio, a new client per call", "Twilio, one client kept per thread"]
    results = {name: Stats() for name in names}
    with https_standin() as (standin, provider):
        with (
            gunicorn(env, args.web_workers, log_path, **provider, **fresh) as fresh_port,
            gunicorn(env, args.web_workers, log_path, **provider, **kept) as kept_port,
        ):
            ports = dict(zip(names, [fresh_port, kept_port], strict=True))
            for name in names:
                load(ports[name], success, args.web_workers * 4, args.web_workers)
            per_round = max(1, args.twilio_requests // args.rounds)
            for _ in range(args.rounds):
                for name in names:
                    results[name].merge(load(ports[name], success, per_round, args.concurrency, args.max_seconds))
        connections = len({created.peer for created in standin.created})
        calls = len(standin.created)
    print(
        f"\n/outgoing with the Twilio backend, provider stand-in on HTTPS ({args.twilio_requests} requests each, "
        f"interleaved; the stand-in saw {calls:,} calls over {connections:,} connections)"
    )
    print(table(RATIO_HEADERS, ratio_rows(results, names)))
    return sum(s.errors for s in results.values())


def ratio_rows(results: dict[str, Stats], names: list[str]) -> list[list[object]]:
    """One row per scenario with its figures and their ratios to the first one's (the baseline)."""
    base = results[names[0]]
    base_p99 = percentile(base.latencies, 0.99) * 1000
    rows: list[list[object]] = []
    for name in names:
        s = results[name]
        p50, p99 = percentile(s.latencies, 0.5) * 1000, percentile(s.latencies, 0.99) * 1000
        rows.append(
            [
                name,
                s.done,
                s.errors,
                fmt(s.rps),
                fmt(p50, 2),
                fmt(p99, 2),
                f"{s.rps / base.rps:.2f}×" if base.rps else "-",
                f"{p99 / base_p99:.2f}×" if base_p99 else "-",
            ]
        )
    return rows


RATIO_HEADERS = ["scenario", "requests", "errors", "req/s", "p50 ms", "p99 ms", "req/s vs base", "p99 vs base"]
QUEUED = {"CLICKTOCALL_PLACEMENT": "queued", "DJANGO_TASKS_BACKEND": "database"}


def unplace_leftovers(line) -> int:
    """Drop the tasks nobody placed (the request-path runs have no task worker); returns how many."""
    from django_tasks_db.models import DBTaskResult

    from clicktocall.models import CallAttempt

    deleted, _ = DBTaskResult.objects.filter(status="READY").delete()
    CallAttempt.objects.filter(line=line, outcome="queued").update(
        outcome="error", error_detail="benchmark: not placed"
    )
    return deleted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per scenario (split over rounds)")
    parser.add_argument("--rounds", type=int, default=10, help="scenarios run interleaved, this many times")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--slow-requests", type=int, default=120, help="requests with the 300 ms provider")
    parser.add_argument("--twilio-requests", type=int, default=600, help="requests with the Twilio backend")
    parser.add_argument("--task-workers", type=int, default=4, help="db_worker processes in queued mode")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="cap on each load run")
    parser.add_argument("--webhook-requests", type=int, default=600, help="requests with and without webhooks")
    parser.add_argument("--webhooks-only", action="store_true", help="only /outgoing with and without webhooks")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: stop the servers it started too
    counts = ("requests", "rounds", "concurrency", "web_workers", "slow_requests", "twilio_requests", "task_workers")
    for name in counts:
        if not 1 <= getattr(args, name) <= 100_000:
            parser.error(f"--{name.replace('_', '-')} must be between 1 and 100000")

    env = environment()
    setup_django(env)
    line = ensure_line()
    from clicktocall.models import CallAttempt

    reserve_numbers(20 * (args.requests + args.slow_requests + args.twilio_requests) + 1000)
    checkpoint()
    log_path = os.path.join(tempfile.gettempdir(), "clicktocall-bench-gunicorn.log")
    open(log_path, "w").close()
    print(f"database {env['DATABASE_URL']}, cache {env['REDIS_URL'] or 'in-process'}; server log {log_path}")
    print(
        f"gunicorn: {args.web_workers} sync workers; load: {args.concurrency} concurrent connections, "
        f"{args.requests} requests per scenario in {args.rounds} interleaved rounds; {os.cpu_count()} CPUs"
    )
    print(knobs(line))
    print()

    if args.webhooks_only:
        return verdict(print_webhook_rows(env, args, log_path), "requests did not get the expected answer", log_path)
    scenarios = [*SCENARIOS, QUEUED_SUCCESS]
    results = {s.name: Stats() for s in scenarios}
    with (
        gunicorn(env, args.web_workers, log_path) as port,
        gunicorn(env, args.web_workers, log_path, **QUEUED) as queued_port,
    ):
        ports = {s.name: port for s in SCENARIOS} | {QUEUED_SUCCESS.name: queued_port}
        for scenario in scenarios:  # warm every worker up
            load(ports[scenario.name], scenario, args.web_workers * 4, args.web_workers)
        per_round = max(1, args.requests // args.rounds)
        for _ in range(args.rounds):
            for scenario in scenarios:
                stats = load(ports[scenario.name], scenario, per_round, args.concurrency, args.max_seconds)
                results[scenario.name].merge(stats)
    unplace_leftovers(line)
    print(table(RATIO_HEADERS, ratio_rows(results, [s.name for s in scenarios])))
    errors = sum(s.errors for s in results.values())

    print("\nSQL queries and Redis round trips per request (in-process, warmed up)")
    counted = queries_per_request()
    print(table(["request", "queries", "Redis round trips", "problem"], [list(row) for row in counted]))
    errors += sum(1 for row in counted if row[3])

    errors += twilio_keepalive(env, args, log_path)

    slow = {"CLICKTOCALL_TELEPHONY_BACKEND": "benchmarks.backends.SlowBackend", "BENCH_PROVIDER_DELAY": "0.3"}
    success = SCENARIOS[1]
    slow_rows = []
    with gunicorn(env, args.web_workers, log_path, **slow) as port:
        load(port, success, args.web_workers, args.web_workers)
        s = load(port, success, args.slow_requests, args.concurrency, args.max_seconds)
    errors += s.errors
    slow_rows.append(
        [
            "direct (placed in the request)",
            s.done,
            s.errors,
            fmt(s.rps),
            fmt(percentile(s.latencies, 0.5) * 1000),
            fmt(percentile(s.latencies, 0.99) * 1000),
            "-",
        ]
    )

    queued = {**slow, **QUEUED}
    with (
        gunicorn(env, args.web_workers, log_path, **queued) as port,
        task_workers(env, args.task_workers, log_path, **queued),
    ):
        load(port, success, args.web_workers, args.web_workers)
        started = time.perf_counter()
        s = load(port, success, args.slow_requests, args.concurrency, args.max_seconds)
        deadline = started + args.max_seconds
        waiting = CallAttempt.objects.filter(line=line, outcome__in=["queued", "pending"])
        while waiting.exists() and time.perf_counter() < deadline:
            time.sleep(0.05)
        drained = time.perf_counter() - started
        left = waiting.count()
    errors += s.errors + left
    slow_rows.append(
        [
            f"queued ({args.task_workers} db_workers place)",
            s.done,
            s.errors,
            fmt(s.rps),
            fmt(percentile(s.latencies, 0.5) * 1000),
            fmt(percentile(s.latencies, 0.99) * 1000),
            f"{drained:.1f} s" + (f" ({left} left)" if left else ""),
        ]
    )
    print(
        f"\n/outgoing with a provider that takes 300 ms ({args.slow_requests} requests, "
        f"{args.concurrency} concurrent, {args.web_workers} gunicorn workers)"
    )
    print(table(["placement", "requests", "errors", "req/s", "p50 ms", "p99 ms", "all placed after"], slow_rows))
    errors += print_webhook_rows(env, args, log_path)
    return verdict(errors, "requests or calls did not get the expected answer", log_path)


def checkpoint() -> None:
    """Write PostgreSQL's dirty pages out before the run, so that no scheduled checkpoint
    lands on one scenario's round (it needs a superuser; without one, nothing happens)."""
    from django.db import DatabaseError, connection

    if connection.vendor == "postgresql":
        try:
            with connection.cursor() as cursor:
                cursor.execute("CHECKPOINT")
        except DatabaseError:
            pass


def verdict(problems: int, what: str, log_path: str) -> int:
    """The exit status of a benchmark: 1, said after its tables, when anything went wrong."""
    if problems:
        print(f"\nFAILED: {problems} {what}; see {log_path}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
