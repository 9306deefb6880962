"""The benchmark code runs, on tiny sizes (the benchmarks themselves are not tests)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.tasks import default_task_backend
from django.urls import resolve
from django.urls.exceptions import Resolver404

from benchmarks import growth, load, refusals, views
from benchmarks.common import LINE, ensure_line, percentile, task_backend
from clicktocall.models import CallAttempt


@pytest.fixture(autouse=True)
def _fresh_baseline_line():
    """The baseline view remembers line ids per process; each test has its own line."""
    views._line_ids.clear()
    yield
    views._line_ids.clear()


def test_the_baseline_view_is_not_in_the_production_urls():
    with pytest.raises(Resolver404):
        resolve("/bench/baseline/")


@pytest.mark.urls("benchmarks.urls")
@pytest.mark.django_db(transaction=True)
def test_load_generator_drives_every_scenario_against_a_live_server(live_server, outbox):
    ensure_line()
    port = int(live_server.url.rsplit(":", 1)[1])
    # The live server shares one in-memory SQLite connection between its threads: one request at a time there.
    concurrency = 2 if connection.vendor == "postgresql" else 1
    for scenario in load.SCENARIOS:
        stats = load.load(port, scenario, total=6, concurrency=concurrency, max_seconds=30)
        assert (stats.done, stats.errors) == (6, 0), scenario.name
        assert 0 < percentile(stats.latencies, 0.5) <= percentile(stats.latencies, 0.99)
    assert CallAttempt.objects.filter(line__phone_number=LINE).count() == 6 * 4  # baseline rows, placed, refused, JSONP
    assert len(outbox) == 12


@pytest.mark.urls("benchmarks.urls")
@pytest.mark.django_db
def test_queries_per_request_counts_each_kind_of_request():
    ensure_line()
    rows = load.queries_per_request()
    assert [problem for *_, problem in rows] == [""] * len(rows)
    counted = {label: queries for label, queries, _trips, _problem in rows}
    from django.db import connection

    from clicktocall import limits

    in_database = limits.store_name() == "database"  # the benchmark line's daily cap: one more statement
    together = connection.vendor == "postgresql"  # the queued attempt and its task: one statement
    assert counted["/outgoing success, direct"] == 2 + in_database
    assert counted["/outgoing success, queued"] == (1 if together else 2) + in_database
    assert counted["baseline"] == 1 and counted["/outgoing rejected input"] <= 3
    assert type(default_task_backend._connections["default"]).__name__ == "ImmediateBackend"


def test_task_backend_switches_and_restores():
    with task_backend("django_tasks_db.DatabaseBackend"):
        assert type(default_task_backend._connections["default"]).__name__ == "DatabaseBackend"
    assert type(default_task_backend._connections["default"]).__name__ == "ImmediateBackend"


@pytest.mark.django_db
def test_growth_fills_and_measures_at_two_tiny_sizes():
    results = growth.run([30, 60], repeat=1, report=lambda _: None)
    assert CallAttempt.objects.count() == 60
    by_name = {size: {t.name: t for t in timings} for size, timings in results.items()}
    assert by_name[30]["changelist"].detail == "30 rows" and by_name[60]["changelist"].detail == "60 rows"
    assert by_name[60]["export: busiest line, all"].detail.startswith("12 rows")  # every fifth attempt
    assert by_name[60]["export: busiest line, all"].peak_mib > 0
    assert by_name[60]["search: exact phone"].detail in {"0 rows", "1 rows"}
    assert "export: quiet line, all" in growth.render(results)


@pytest.mark.urls("benchmarks.urls")
@pytest.mark.django_db
def test_requests_counted_in_process_pass_the_limits_at_their_defaults(limits):
    """Each request has its own address and number: the default per-address rate refuses none."""
    ensure_line()
    for _ in range(2):  # more requests from one address than its 5 a minute would allow
        rows = load.queries_per_request()
        assert [problem for *_, problem in rows] == [""] * len(rows)


@pytest.mark.django_db
def test_each_run_takes_numbers_no_earlier_run_used():
    first = load.reserve_numbers(1000)
    numbers = {load.next_phone() for _ in range(1000)}
    second = load.reserve_numbers(1000)
    assert second == first + 1000
    assert numbers.isdisjoint({load.next_phone() for _ in range(1000)})


@pytest.mark.urls("benchmarks.urls")
@pytest.mark.django_db(transaction=True)
def test_an_unexpected_answer_is_counted_as_an_error(live_server, outbox):
    ensure_line()
    port = int(live_server.url.rsplit(":", 1)[1])
    wrong = load.Scenario("expects success", "POST", "/outgoing/", lambda: {"phone": "x"}, (200, load.PLACED))
    stats = load.load(port, wrong, total=3, concurrency=1, max_seconds=30)
    assert (stats.done, stats.errors) == (3, 3)


def test_the_burst_counts_calls_per_second_and_the_most_in_any_second():
    from benchmarks import burst

    arrivals = [100.0, 100.5, 100.99, 101.2, 101.95, 112.0]
    buckets, most = burst.placed_per_second(arrivals, start=100.0)
    assert buckets == [(0, 3), (1, 2), (12, 1)] and most == 3
    assert burst.timeline(buckets, width=10) == "0–10 s: 0.5/s, 10–20 s: 0.1/s"
    assert burst.timeline([]) == "no call placed"


@pytest.mark.django_db(transaction=True)  # it empties the attempts table, as it does in its own database
def test_the_refusals_benchmark_measures_each_hourly_share():
    results = {name: refusals.flood(3, share) for name, share in [("every refusal detailed", 3), ("one", 1)]}
    assert [(r["rows"], r["detailed"]) for r in results.values()] == [(3, 3), (3, 1)]
    assert 0 < results["one"]["values"] < results["every refusal detailed"]["values"]
    assert "every refusal detailed" in refusals.render(3, results)
