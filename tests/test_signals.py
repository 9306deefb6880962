"""The signals a host project connects to: call_placed fires once per placed call."""

from __future__ import annotations

import pytest

from clicktocall import signals
from clicktocall.models import CallAttempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    calls = []

    def receiver(sender, attempt, **kwargs):
        calls.append((sender, attempt, attempt.outcome, attempt.provider_call_id))

    signals.call_placed.connect(receiver, dispatch_uid="test-call-placed")
    yield calls
    signals.call_placed.disconnect(dispatch_uid="test-call-placed")


def test_call_placed_fires_with_the_saved_attempt(client, line, outbox, received):
    r = client.post("/outgoing", {"phone": "(617) 523-2338", "campaign_line": "8559299898"}, format="json")
    assert r.status_code == 200
    ((sender, attempt, outcome, sid),) = received
    assert sender is CallAttempt
    assert attempt.pk == CallAttempt.objects.get().pk
    assert outcome == "placed" and sid.startswith("CA")
    assert outbox[0].attempt_token == attempt.token
    assert CallAttempt.objects.get(pk=attempt.pk).outcome == "placed"  # saved before the signal


def test_call_placed_does_not_fire_for_refusals_or_failures(client, line, failures, received):
    client.get("/outgoing", {"phone": "12", "campaign_line": "8559299898"})
    failures.append(Exception("provider down"))
    client.get("/outgoing", {"phone": "(617) 523-2338", "campaign_line": "8559299898"})
    assert received == []
    assert sorted(CallAttempt.objects.values_list("outcome", flat=True)) == ["error", "invalid"]


def test_call_status_changed_is_a_signal_hosts_can_connect_to():
    seen = []

    def receiver(sender, attempt, old_status, new_status, **kwargs):
        seen.append((old_status, new_status))

    signals.call_status_changed.connect(receiver, dispatch_uid="test-status")
    try:
        signals.call_status_changed.send(sender=CallAttempt, attempt=None, old_status="ringing", new_status="completed")
    finally:
        signals.call_status_changed.disconnect(dispatch_uid="test-status")
    assert seen == [("ringing", "completed")]
