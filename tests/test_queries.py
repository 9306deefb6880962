"""The SQL budget of ``/outgoing``: the queries of each kind of request, and the commits of an accepted one.

The lines are read once per process and kept (``clicktocall.lines``): a request costs
no query to find its line. An accepted request inserts its attempt (the INSERT itself
checks the number's blocklist entry), and then records the provider's answer (direct)
or stores its task in the same transaction (queued).
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from clicktocall import blocklist, lines
from clicktocall.events import delivery
from clicktocall.events.models import WebhookEndpoint
from clicktocall.models import CallAttempt

from .contract import LINE

pytestmark = pytest.mark.django_db

BUDGET = {"direct": 2, "queued": 2, "refused input": 1}
REQUEST = {"phone": "617-523-2338", "campaign_line": "8559299898", "name": "Ann", "zip": "02113"}


@pytest.fixture(autouse=True)
def _warm(db):
    """The network blocklist, the lines and the webhook subscriptions are read once and then kept."""
    blocklist.network_entry("192.0.2.1")
    delivery.subscriptions()


def send(client, data=REQUEST, **extra):
    lines.find(LINE)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/outgoing/", data, **extra)
    # The test's own transaction turns the request's transaction into a savepoint: not a query of the request.
    return response, [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]


def accepted(client, **extra) -> list[str]:
    response, queries = send(client, **extra)
    assert response.status_code == 200 and response.json()["error"] is False, response.content
    return queries


@pytest.fixture
def queued(settings):
    settings.CLICKTOCALL_PLACEMENT = "queued"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_direct_placement_stays_within_the_budget(client, line, outbox):
    queries = accepted(client)
    assert len(queries) <= BUDGET["direct"], queries
    assert len(outbox) == 1 and CallAttempt.objects.get().outcome == "placed"


def test_queued_placement_stays_within_the_budget(queued, client, line, outbox):
    queries = accepted(client)
    assert len(queries) <= BUDGET["queued"], queries
    assert outbox == [] and CallAttempt.objects.get().outcome == "queued" and DBTaskResult.objects.count() == 1


def test_refused_input_costs_one_insert(client, line, outbox):
    """And, when the limits live in the database, the count of the address's refused requests."""
    from clicktocall import limits

    response, queries = send(client, {**REQUEST, "phone": "not a number"})
    budget = BUDGET["refused input"] + (limits.store_name() == "database")
    assert response.status_code == 400 and len(queries) <= budget, queries
    assert CallAttempt.objects.get().outcome == "invalid"


def test_a_line_with_targets_costs_no_more(settings, client, targets):
    """The console backend's transcript names the targets: they are kept with the line, not read per request."""
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "console"
    queries = accepted(client)
    assert len(queries) <= BUDGET["direct"], queries
    assert not any("clicktocall_target" in sql for sql in queries)


def test_jsonp_and_json_bodies_cost_the_same(client, line, outbox):
    lines.find(LINE)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/outgoing", {**REQUEST, "callback": "jQuery3710_1700000000000"})
    assert response.status_code == 200 and b'"error":false' in response.content.replace(b" ", b"")
    assert len(queries) <= BUDGET["direct"]


@contextmanager
def write_transactions():
    """Count the transactions that write: each autocommitted write, plus each outermost atomic block with writes."""
    blocks: list[object] = []

    def observe(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "WITH")):
            block = id(connection.atomic_blocks[0]) if connection.in_atomic_block else object()
            if block not in blocks:
                blocks.append(block)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(observe):
        yield blocks


@pytest.mark.django_db(transaction=True)
def test_a_queued_attempt_and_its_task_are_written_in_one_transaction(queued, client, line, outbox):
    lines.find(LINE)
    with write_transactions() as written:
        response = client.post("/outgoing/", REQUEST)
    assert response.status_code == 200 and DBTaskResult.objects.count() == 1
    assert len(written) == 1


@pytest.mark.parametrize("placement", ["direct", "queued"])
@pytest.mark.parametrize("endpoint", [False, True], ids=["no endpoint", "an endpoint"])
def test_an_accepted_request_makes_one_round_trip_to_redis(limits, settings, client, line, outbox, placement, endpoint):
    """The limits at their defaults, calls paced, events published: one script takes every
    limit and the request's turn (in the queue's pace, or the provider's when it places the
    call itself), having checked the version of the kept lines. The webhook subscriptions
    are kept with the lines: publishing costs no round trip."""
    from django.core.cache import caches

    from benchmarks.load import redis_round_trips

    if type(caches["default"]).__name__ != "RedisCache":
        pytest.skip("counts round trips to Redis")
    settings.CLICKTOCALL_PLACEMENT = placement
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.CLICKTOCALL_PROVIDER_CPS = 1000
    if endpoint:
        WebhookEndpoint.objects.create(url="https://crm.example.org/hook", events=["attempt.created", "call.placed"])
    lines.find(LINE)
    with redis_round_trips() as trips:
        response = client.post("/outgoing/", REQUEST, REMOTE_ADDR="198.18.0.1")
    assert response.status_code == 200 and response.json()["error"] is False
    assert trips[0] == 1
    assert CallAttempt.objects.get().outcome == ("queued" if placement == "queued" else "placed")


def test_refused_input_makes_one_round_trip_to_redis(limits, client, line, outbox):
    """The count of the address's refused requests, which checks the version of the kept lines."""
    from django.core.cache import caches

    from benchmarks.load import redis_round_trips

    if type(caches["default"]).__name__ != "RedisCache":
        pytest.skip("counts round trips to Redis")
    lines.find(LINE)
    with redis_round_trips() as trips:
        response = client.post("/outgoing/", {**REQUEST, "phone": "not a number"}, REMOTE_ADDR="198.18.0.1")
    assert response.status_code == 400 and trips[0] == 1
    assert CallAttempt.objects.get().outcome == "invalid"


@pytest.mark.parametrize("placement", ["direct", "queued"])
def test_the_events_of_a_request_cost_one_insert(
    settings, client, line, outbox, django_capture_on_commit_callbacks, placement
):
    settings.CLICKTOCALL_PLACEMENT = placement
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    events = ["attempt.created", "call.placed", "call.status_changed"]
    WebhookEndpoint.objects.create(url="https://crm.example.org/hook", events=events)
    delivery.subscriptions()
    with django_capture_on_commit_callbacks(execute=True):
        queries = accepted(client)
    assert len(queries) <= BUDGET[placement] + 1, queries
    fan_out = DBTaskResult.objects.get(task_path="clicktocall.events.delivery.fan_out")
    published = [item[0] for item in fan_out.args_kwargs["args"][0]]
    assert published == (
        events[:1] if placement == "queued" else ["attempt.created", "call.status_changed", "call.placed"]
    )
