"""The embedded default carries real calls: 8 simultaneous whole calls on SQLite, several server processes.

Gunicorn (4 worker processes) serves the project from an SQLite file with the Twilio
backend; the Twilio stand-in plays each call as Twilio would, its status callbacks
starting as soon as the call is created, while ``/outgoing`` may still be writing. Every
webhook, status callback and target leg must be recorded: no "database is locked", no 503.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests

from .processes import ROOT, free_port, project_env, start_gunicorn, stop
from .twilio_standin import Scenario, SimulatedCall, TwilioStandIn

SID = "AC" + "2" * 32
TOKEN = "stand-in-auth-token"
LINE = "+18559299898"
REP = "+12025550100"
SEN = "+12025550101"
CALLS = 8

SETUP = f"""
from clicktocall.models import CampaignLine, Target
line = CampaignLine.objects.create(phone_number="{LINE}", name="Save the park", script="Hello {{{{ name }}}}.")
Target.objects.create(line=line, position=0, name="Representative Adams", phone_number="{REP}")
Target.objects.create(line=line, position=1, name="Senator Brown", phone_number="{SEN}")
"""


def _manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def server(tmp_path):
    """The Twilio stand-in, and gunicorn on an SQLite file with a line of two targets."""
    standin = TwilioStandIn(SID, TOKEN).start()
    database = tmp_path / "db.sqlite3"
    base = project_env(
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_DEBUG="1",
        CLICKTOCALL_LOG_LEVEL="WARNING",
        CLICKTOCALL_IP_RATE="off",
        CLICKTOCALL_PHONE_RATE="off",
        CLICKTOCALL_PROVIDER_CPS="0",  # eight calls at once: not paced to the provider's rate
    )
    _manage(base, "migrate", "--noinput")
    _manage(base, "shell", "-c", SETUP)
    port = free_port()
    env = {
        **base,
        "CLICKTOCALL_TELEPHONY_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_BASE_URL": standin.base_url,
        "CLICKTOCALL_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    process, port = start_gunicorn(env, tmp_path, port=port)
    try:
        yield standin, port, database
    finally:
        stop(process)
        standin.stop()


def test_eight_simultaneous_whole_calls_on_sqlite(server, tmp_path):
    standin, port, database = server
    phones = [f"+1617523{n:04d}" for n in range(CALLS)]
    barrier = threading.Barrier(CALLS)
    answers: dict[str, object] = {}
    calls: dict[str, SimulatedCall] = {}

    def ask(phone: str) -> None:
        barrier.wait()
        response = requests.post(
            f"http://127.0.0.1:{port}/outgoing", data={"phone": phone, "campaign_line": LINE, "name": "Ann"}, timeout=60
        )
        answers[phone] = (response.status_code, response.json())

    def play(created) -> None:
        calls[created.value("To")] = standin.run_call(created, Scenario(digits=["1"]))

    askers = [threading.Thread(target=ask, args=(phone,)) for phone in phones]
    for thread in askers:
        thread.start()
    players: list[threading.Thread] = []
    deadline = time.monotonic() + 60
    while len(players) < CALLS and time.monotonic() < deadline:  # each call starts once Twilio has it
        for created in standin.created[len(players) :]:
            players.append(threading.Thread(target=play, args=(created,)))
            players[-1].start()
        time.sleep(0.005)
    for thread in askers + players:
        thread.join(timeout=120)

    assert answers == {phone: (200, {"error": False, "message": "The call's been placed."}) for phone in phones}
    assert sorted(calls) == phones
    for phone, call in calls.items():
        assert [status for _url, _params, status in call.webhooks] == [200] * len(call.webhooks), (phone, call.heard)
        assert call.status_responses == [204] * 4, (phone, call.status_responses)
        assert [d["number"] for d in call.dialed] == [REP, SEN], (phone, call.heard)
        assert call.heard[-1] == "Hangup", (phone, call.heard)

    with sqlite3.connect(database) as db:
        attempts = db.execute(
            "SELECT phone, outcome, status, provider_call_id, answered_at IS NOT NULL, ended_at IS NOT NULL "
            "FROM clicktocall_callattempt ORDER BY phone"
        ).fetchall()
        legs = db.execute(
            "SELECT a.phone, l.position, l.status, l.duration FROM clicktocall_callleg l "
            "JOIN clicktocall_callattempt a ON a.id = l.attempt_id ORDER BY a.phone, l.position"
        ).fetchall()
    assert attempts == [(phone, "placed", "completed", calls[phone].sid, 1, 1) for phone in phones]
    assert legs == [(phone, position, "completed", 42) for phone in phones for position in (0, 1)]

    time.sleep(0.2)  # the access log is written after the response
    statuses = [line.split()[1] for line in (tmp_path / "access.log").read_text().splitlines()]
    assert not [status for status in statuses if status.startswith("5")], statuses
    assert "database is locked" not in (tmp_path / "server.log").read_text()
