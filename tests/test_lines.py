"""The lines each process keeps: no query per request, and a staff edit seen at once by every process."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clicktocall import lines
from clicktocall.models import CampaignLine, Target
from clicktocall.targets.custom import active_targets

from .conftest import line_form
from .contract import LINE, PLACED, UNCONFIGURED
from .processes import current_database_url, project_env, shared_cache_env, start_gunicorn, stop

pytestmark = pytest.mark.django_db


def test_a_kept_line_costs_no_query_and_each_caller_gets_its_own_copy(line):
    first = lines.find(LINE)
    with CaptureQueriesContext(connection) as queries:
        second = lines.find(LINE)
        assert lines.find("+18005550100") is None
    assert len(queries) == 0
    assert first == second == line and first is not second
    second.name = "changed by one request"
    assert lines.find(LINE).name == "Test campaign"


def test_saving_or_deleting_a_line_or_target_is_seen_by_the_next_read(line):
    assert lines.find(LINE).is_active
    line.is_active = False
    line.save()
    assert not lines.find(LINE).is_active

    target = Target.objects.create(line=line, name="Rep. Pressley", phone_number="+12022255111")
    assert [t.name for t in active_targets(lines.find(LINE))] == ["Rep. Pressley"]
    target.is_active = False
    target.save()
    assert active_targets(lines.find(LINE)) == []
    target.delete()

    CampaignLine.objects.filter(pk=line.pk).delete()
    assert lines.find(LINE) is None


def test_targets_are_kept_in_calling_order(line):
    Target.objects.create(line=line, name="Second", phone_number="+12022255112", position=2)
    Target.objects.create(line=line, name="First", phone_number="+12022255111", position=1)
    Target.objects.create(line=line, name="Off", phone_number="+12022255113", position=0, is_active=False)
    kept = lines.find(LINE)
    with CaptureQueriesContext(connection) as queries:
        names = [t.name for t in active_targets(kept)]
    assert names == ["First", "Second"] and len(queries) == 0


def another_process_pauses(line, status) -> None:
    """What an edit in another process leaves here: the row changed and a new version in the
    shared cache, while this process still keeps the line as it was."""
    CampaignLine.objects.filter(pk=line.pk).update(status=status)
    lines._new_version()


def test_a_request_sees_an_edit_made_elsewhere_and_takes_nothing_for_the_stale_line(limits, client, line, outbox):
    """With the limits in Redis the kept line is checked by the limits' own script, which
    takes nothing when the lines changed: the request starts again with the current ones."""
    request = {"phone": "617-523-2338", "campaign_line": "8559299898"}
    assert lines.find(LINE).is_active
    another_process_pauses(line, CampaignLine.Status.PAUSED)
    answer = client.post("/outgoing", request, HTTP_ACCEPT="application/json").json()
    assert answer["message"] == UNCONFIGURED
    another_process_pauses(line, CampaignLine.Status.LIVE)
    answer = client.post("/outgoing", request, HTTP_ACCEPT="application/json").json()
    assert answer["message"] == PLACED and len(outbox) == 1  # no cooldown was taken for the paused line
    assert list(line.attempts.order_by("pk").values_list("outcome", flat=True)) == ["inactive", "placed"]


def _ask(port: int, phone: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = urlencode({"phone": phone, "campaign_line": "8559299898"})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    conn.request("POST", "/outgoing", body, headers)
    answer = json.loads(conn.getresponse().read())["message"]
    conn.close()
    return answer


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_admin_edit_takes_effect_on_the_next_request_of_every_process(admin_client, tmp_path):
    """Two server processes keep the line; staff switch it off and on in the admin; each sees it at once."""
    cache_env = shared_cache_env()
    if connection.vendor != "postgresql" or cache_env is None:
        pytest.skip("needs PostgreSQL and Redis, which the server processes share with the test")
    line = CampaignLine.objects.create(phone_number=LINE, name="Two processes")
    env = {
        "DATABASE_URL": current_database_url(),
        **cache_env,
        "DJANGO_DEBUG": "1",
        "CLICKTOCALL_TELEPHONY_BACKEND": "console",
        "CLICKTOCALL_LOG_LEVEL": "ERROR",
        "CLICKTOCALL_COOLDOWN_SECONDS": "0",
        "CLICKTOCALL_IP_RATE": "off",
        "CLICKTOCALL_PHONE_RATE": "off",
        "CLICKTOCALL_PROVIDER_CPS": "0",
    }
    change = f"/admin/clicktocall/campaignline/{line.pk}/change/"
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first, one = start_gunicorn(project_env(**env), tmp_path / "one", workers=1)
    try:
        second, two = start_gunicorn(project_env(**env), tmp_path / "two", workers=1)
        try:
            assert [_ask(one, "617-523-2301"), _ask(two, "617-523-2302")] == [PLACED, PLACED]  # both keep the line

            paused = line_form(phone_number=LINE, name="Paused", status=CampaignLine.Status.PAUSED)
            r = admin_client.post(change, paused)
            assert r.status_code == 302, r.content[:500]
            assert [_ask(one, "617-523-2303"), _ask(two, "617-523-2304")] == [UNCONFIGURED, UNCONFIGURED]

            r = admin_client.post(change, line_form(phone_number=LINE, name="Back on"))
            assert r.status_code == 302
            assert [_ask(one, "617-523-2305"), _ask(two, "617-523-2306")] == [PLACED, PLACED]
        finally:
            stop(second)
    finally:
        stop(first)
