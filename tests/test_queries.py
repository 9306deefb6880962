"""The SQL budget of an accepted ``/outgoing`` request: at most 3 queries, direct or queued."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from clicktocall import blocklist
from clicktocall.events import delivery
from clicktocall.events.models import WebhookEndpoint
from clicktocall.models import CallAttempt

pytestmark = pytest.mark.django_db

BUDGET = 3
REQUEST = {"phone": "617-523-2338", "campaign_line": "8559299898", "name": "Ann", "zip": "02113"}


@pytest.fixture(autouse=True)
def _warm_network_blocklist(db):
    """The network blocklist and the webhook subscriptions are read once and then served from the cache."""
    blocklist.network_entry("192.0.2.1")
    delivery.subscriptions()


def accepted(client, **extra) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/outgoing/", REQUEST, **extra)
    assert response.status_code == 200 and response.json()["error"] is False, response.content
    return [q["sql"] for q in queries]


def test_direct_placement_stays_within_the_budget(client, line, outbox):
    queries = accepted(client)
    assert len(queries) <= BUDGET, queries
    assert len(outbox) == 1 and CallAttempt.objects.get().outcome == "placed"


def test_queued_placement_stays_within_the_budget(settings, client, line, outbox):
    settings.CLICKTOCALL_PLACEMENT = "queued"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    queries = accepted(client)
    assert len(queries) <= BUDGET, queries
    assert outbox == [] and CallAttempt.objects.get().outcome == "queued" and DBTaskResult.objects.count() == 1


def test_jsonp_and_json_bodies_cost_the_same(client, line, outbox):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/outgoing", {**REQUEST, "callback": "jQuery3710_1700000000000"})
    assert response.status_code == 200 and b'"error":false' in response.content.replace(b" ", b"")
    assert len(queries) <= BUDGET


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
    assert len(queries) <= BUDGET + 1, queries
    fan_out = DBTaskResult.objects.get(task_path="clicktocall.events.delivery.fan_out")
    published = [item[0] for item in fan_out.args_kwargs["args"][0]]
    assert published == (
        events[:1] if placement == "queued" else ["attempt.created", "call.status_changed", "call.placed"]
    )
