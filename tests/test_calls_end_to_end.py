"""Whole calls: /outgoing on a live server, the Twilio backend, and a Twilio stand-in playing Twilio."""

from __future__ import annotations

import pytest
import requests

from clicktocall.models import BlockEntry, CallAttempt, CallLeg, CampaignLine, Target

from .test_twilio_openapi import twilio_openapi, validate  # noqa: F401 (a fixture)
from .twilio_standin import Scenario, TwilioStandIn

pytestmark = pytest.mark.django_db(transaction=True)

SID = "AC" + "1" * 32
TOKEN = "stand-in-auth-token"
LINE = "+18559299898"
PHONE = "+16175232338"
REP = "+12025550100"
SEN = "+12025550101"


@pytest.fixture
def twilio(settings, live_server):
    standin = TwilioStandIn(SID, TOKEN).start()
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_API_BASE_URL = standin.base_url
    settings.CLICKTOCALL_PUBLIC_URL = live_server.url
    yield standin
    standin.stop()


@pytest.fixture
def campaign(db):
    line = CampaignLine.objects.create(
        phone_number=LINE,
        name="Save the park",
        script="Hello {{ name }}. The park near {{ zip }} needs you, {{ role }}.{{ missing }}",
        closing_message="Thank you, {{ name }}. Goodbye.",
    )
    Target.objects.create(line=line, position=1, name="Senator Brown", phone_number=SEN)
    Target.objects.create(line=line, position=0, name="Representative Adams", phone_number=REP, extension="ww42#")
    return line


def request_call(live_server, twilio, **extra):
    params = {"phone": "(617) 523-2338", "campaign_line": "8559299898", "name": "Paul Revere", "zip": "02113"}
    response = requests.post(f"{live_server.url}/outgoing", data={**params, **extra}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == {"error": False, "message": "The call's been placed."}
    return twilio.created[-1]


def test_script_with_variables_then_each_target_then_closing(live_server, twilio, campaign):
    created = request_call(live_server, twilio, data='{"role": "neighbor <Hangup/>"}')
    call = twilio.run_call(created, Scenario(digits=["1"]))

    assert call.said[0] == "Hello Paul Revere. The park near 02113 needs you, neighbor <Hangup/>."
    assert call.said[1].startswith("Press 1 to be connected")
    assert call.said[2] == "Connecting you to Representative Adams. Press star at any time to move on to the next one."
    assert call.said[3] == "Connecting you to Senator Brown."
    assert call.said[-1] == "Thank you, Paul Revere. Goodbye."
    assert [d["number"] for d in call.dialed] == [REP, SEN]
    assert call.dialed[0]["sendDigits"] == "ww42#" and call.dialed[0]["callerId"] == LINE
    assert call.heard[-1] == "Hangup"
    assert all(status == 200 for _, _, status in call.webhooks)
    assert call.status_responses and set(call.status_responses) == {204}

    attempt = CallAttempt.objects.get()
    assert attempt.provider_call_id == created.sid
    assert attempt.status == "completed"
    assert attempt.answered_at and attempt.ended_at and attempt.ended_at >= attempt.answered_at
    assert attempt.duration == int(call.seconds)
    legs = list(attempt.legs.order_by("position"))
    assert [(leg.target_name, leg.status, leg.duration) for leg in legs] == [
        ("Representative Adams", "completed", 42),
        ("Senator Brown", "completed", 42),
    ]


def test_the_create_call_request(live_server, twilio, campaign, twilio_openapi):  # noqa: F811
    created = request_call(live_server, twilio)
    wire = requests.Request(
        "POST",
        "https://api.twilio.com" + created.path,
        data=created.body,
        headers={name: created.headers[name] for name in ("Content-Type", "Authorization")},
    ).prepare()
    validate(twilio_openapi, wire)  # what reached the stand-in is a request Twilio accepts
    attempt = CallAttempt.objects.get()
    assert created.value("To") == PHONE and created.value("From") == LINE
    assert created.value("Url") == f"{live_server.url}/clicktocall/twilio/voice/{attempt.token}/"
    assert created.value("StatusCallback") == f"{live_server.url}/clicktocall/twilio/status/{attempt.token}/"
    assert created.form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert created.value("Timeout") == "30"
    assert "MachineDetection" not in created.form
    assert len(attempt.token) >= 32  # unguessable, not a sequential id


def test_star_skips_the_second_target(live_server, twilio, campaign):
    Target.objects.create(line=campaign, position=2, name="Governor Clark", phone_number="+12025550102")
    created = request_call(live_server, twilio)
    call = twilio.run_call(created, Scenario(digits=["1"], dial_outcomes={SEN: "star"}))

    assert [d["number"] for d in call.dialed] == [REP, SEN, "+12025550102"]
    assert all(d["hangupOnStar"] == "true" for d in call.dialed)
    assert call.heard.index("Pressed *") < call.heard.index("Say: Connecting you to Governor Clark.")
    legs = CallLeg.objects.order_by("position")
    assert [(leg.target_name, leg.duration) for leg in legs] == [
        ("Representative Adams", 42),
        ("Senator Brown", 3),
        ("Governor Clark", 42),
    ]
    assert call.said[-1] == "Thank you, Paul Revere. Goodbye."


def test_a_busy_target_is_reported_and_the_next_one_dialed(live_server, twilio, campaign):
    created = request_call(live_server, twilio)
    call = twilio.run_call(created, Scenario(digits=["1"], dial_outcomes={REP: "busy"}))

    assert "Say: Representative Adams is busy." in call.heard
    assert call.heard.index("Say: Representative Adams is busy.") < call.heard.index(f"Dial: {SEN}")
    legs = CallLeg.objects.order_by("position")
    assert [(leg.status, leg.duration) for leg in legs] == [("busy", 0), ("completed", 42)]
    assert legs[0].ended_at is not None


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("hangup", ["Hangup"]),
        (
            "message",
            [
                "Say: Hello Paul Revere. The park near 02113 needs you, .",
                "Say: Thank you, Paul Revere. Goodbye.",
                "Hangup",
            ],
        ),
    ],
)
def test_a_machine_answers(live_server, twilio, campaign, action, expected):
    campaign.human_check = CampaignLine.HumanCheck.MACHINE_DETECTION
    campaign.machine_action = action
    campaign.save()
    created = request_call(live_server, twilio)
    assert created.value("MachineDetection") == ("Enable" if action == "hangup" else "DetectMessageEnd")

    call = twilio.run_call(created, Scenario(answered_by="machine_end_beep", digits=["1"]))

    assert call.heard == expected
    assert call.dialed == []
    assert not CallLeg.objects.exists()
    assert CallAttempt.objects.get().status == "completed"


def test_a_person_answers_with_machine_detection_on(live_server, twilio, campaign):
    campaign.human_check = CampaignLine.HumanCheck.MACHINE_DETECTION
    campaign.save()
    created = request_call(live_server, twilio)
    call = twilio.run_call(created, Scenario(answered_by="human", digits=["1"]))
    assert call.said[1].startswith("Press 1 to be connected")
    assert [d["number"] for d in call.dialed] == [REP, SEN]


def test_pressing_9_opts_out_and_later_requests_are_refused(live_server, twilio, campaign):
    created = request_call(live_server, twilio)
    call = twilio.run_call(created, Scenario(digits=["9"]))

    assert call.said[-1] == "You will not receive these calls again. Goodbye."
    assert call.dialed == []
    entry = BlockEntry.objects.get()
    assert (entry.kind, entry.value, entry.reason) == ("phone", PHONE, "opt-out")

    before = len(twilio.created)
    response = requests.post(
        f"{live_server.url}/outgoing", data={"phone": "617.523.2338", "campaign_line": "+18559299898"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json() == {"error": True, "message": "Sorry, there was an error."}
    assert len(twilio.created) == before
    assert CallAttempt.objects.order_by("-pk").first().outcome == "blocked"


def test_no_key_pressed_asks_again_then_hangs_up_without_connecting(live_server, twilio, campaign):
    created = request_call(live_server, twilio)
    call = twilio.run_call(created, Scenario(digits=[]))
    assert call.heard[-5:] == [
        "(no key pressed)",
        "Say: Sorry, I didn't get that. Press 1 to be connected. To stop receiving these calls, press 9.",
        "(no key pressed)",
        "Say: We didn't get your answer. Goodbye.",
        "Hangup",
    ]
    assert call.dialed == []
    assert CallAttempt.objects.get().status == "completed"


def test_a_key_pressed_when_asked_again_connects(live_server, twilio, campaign):
    created = request_call(live_server, twilio)
    call = twilio.run_call(created, Scenario(digits=["", "1"]))
    assert "Pressed 1" in call.heard
    assert [d["number"] for d in call.dialed] == [REP, SEN]
    redirects = [url for url, params, _ in call.webhooks if "/gather/" in url and "Digits" not in params]
    assert len(redirects) == 1  # the <Redirect> was followed


def test_caller_hangs_up_during_the_script(live_server, twilio, campaign):
    created = request_call(live_server, twilio)
    call = twilio.run_call(created, Scenario(digits=["1"], hang_up_on="The park near"))

    assert call.ended_by == "caller"
    assert call.dialed == []
    attempt = CallAttempt.objects.get()
    assert attempt.status == "completed" and attempt.ended_at is not None
    assert not attempt.legs.exists()


def test_constituent_does_not_answer(live_server, twilio, campaign):
    created = request_call(live_server, twilio)
    call = twilio.run_call(created, Scenario(answer="no-answer"))
    assert call.heard == [] and call.statuses == ["initiated", "ringing", "no-answer"]
    attempt = CallAttempt.objects.get()
    assert attempt.status == "no-answer" and attempt.answered_at is None and attempt.duration == 0


def test_a_line_without_targets_only_plays_the_script(live_server, twilio, campaign):
    campaign.targets.all().delete()
    created = request_call(live_server, twilio)
    call = twilio.run_call(created, Scenario(digits=["1"]))
    assert call.heard == [
        "Say: Hello Paul Revere. The park near 02113 needs you, .",
        "Say: Thank you, Paul Revere. Goodbye.",
        "Hangup",
    ]


def test_audio_script_is_played(live_server, twilio, campaign):
    campaign.script_audio_url = "https://media.example.org/script.mp3"
    campaign.save()
    created = request_call(live_server, twilio)
    call = twilio.run_call(created, Scenario(digits=["1"]))
    assert call.heard[0] == "Play: https://media.example.org/script.mp3"


def test_a_forged_signature_is_rejected(live_server, twilio, campaign):
    created = request_call(live_server, twilio)
    attempt = CallAttempt.objects.get()
    params = {"AccountSid": SID, "CallSid": created.sid, "CallStatus": "completed", "CallDuration": "9"}
    forged = TwilioStandIn(SID, "not-the-auth-token")
    status_url = created.value("StatusCallback")

    assert forged.post(status_url, params).status_code == 403
    assert twilio.post(status_url, params, signature="").status_code == 403
    response = forged.post(created.value("Url"), {**params, "CallStatus": "in-progress"})
    assert response.status_code == 403 and b"<Response" not in response.content

    attempt.refresh_from_db()
    assert attempt.status == "queued" and attempt.ended_at is None and attempt.duration is None
    assert twilio.post(status_url, params).status_code == 204
    attempt.refresh_from_db()
    assert attempt.status == "completed" and attempt.duration == 9
