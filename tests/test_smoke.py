import pytest

from clicktocall.models import CallAttempt

pytestmark = pytest.mark.django_db


def test_get_places_a_call(client, line, outbox):
    r = client.get("/outgoing", {"phone": "(617) 523-2338", "campaign_line": "8559299898", "zip": "02113"})
    assert r.status_code == 200, r.content
    assert r.json() == {"error": False, "message": "The call's been placed."}
    assert [c.to for c in outbox] == ["+16175232338"]
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "placed" and attempt.variables == {"zip": "02113"}
