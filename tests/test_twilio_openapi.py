"""The Twilio backend's Calls-resource requests, checked against Twilio's OpenAPI description."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
import requests
import responses
from django.core import checks

from clicktocall.models import CallAttempt, CampaignLine, Target
from clicktocall.telephony import CallRequest
from clicktocall.telephony.backends.twilio import TwilioBackend

ROOT = Path(__file__).resolve().parents[1]
SPEC_CANDIDATES = [
    os.environ.get("TWILIO_OPENAPI_SPEC", ""),
    ROOT.parent / "shared" / "twilio" / "twilio_api_v2010.json",
]
SPEC = next((Path(p) for p in SPEC_CANDIDATES if p and Path(p).is_file()), Path(SPEC_CANDIDATES[-1]))
SID = "AC" + "0" * 32
CALLS = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Calls.json"
CREATED = {"sid": "CA" + "f" * 32, "status": "queued", "account_sid": SID}


@pytest.fixture(scope="session")
def twilio_openapi():
    """Twilio's API description, loaded once per session (it is large)."""
    if not SPEC.exists():
        pytest.skip(f"{SPEC} is not available")
    from jsonschema_path import SchemaPath
    from openapi_core import OpenAPI

    return OpenAPI(SchemaPath.from_dict(json.loads(SPEC.read_text())))


def validate(openapi, prepared: requests.PreparedRequest) -> None:
    from openapi_core.contrib.requests import RequestsOpenAPIRequest

    openapi.validate_request(RequestsOpenAPIRequest(prepared))


def sent(request: CallRequest, base_url: str = "https://api.twilio.com") -> requests.PreparedRequest:
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, f"{base_url}/2010-04-01/Accounts/{SID}/Calls.json", json=CREATED, status=201)
        call = TwilioBackend().place_call(request)
        assert call.sid == CREATED["sid"] and call.status == "queued"
        assert len(mock.calls) == 1
        return mock.calls[0].request


def form(prepared: requests.PreparedRequest) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(prepared.body if isinstance(prepared.body, str) else prepared.body.decode())


REQUEST = CallRequest(
    to="+16175232338",
    from_="+18559299898",
    attempt_token="tok",
    voice_url="https://calls.example.org/clicktocall/twilio/voice/tok/",
    status_callback_url="https://calls.example.org/clicktocall/twilio/status/tok/",
    ring_timeout=25,
)


def test_the_look_up_of_a_call_is_valid_against_twilio_openapi(twilio_openapi, settings):
    """The list request of ``find_call`` (operation ListCall), and how its answer is read."""
    import datetime as dt

    created = dt.datetime(2026, 11, 30, 13, 0, 5, tzinfo=dt.UTC)
    resource = {**CREATED, "to": REQUEST.to, "from": REQUEST.from_, "date_created": "Mon, 30 Nov 2026 13:00:05 +0000"}
    page = {"calls": [resource], "page": 0, "page_size": 50, "next_page_uri": None, "uri": "/x", "start": 0, "end": 0}
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, CALLS, json=page)
        window = (created - dt.timedelta(seconds=5), created + dt.timedelta(seconds=5))
        assert TwilioBackend().find_call(REQUEST, *window).sid == CREATED["sid"]
        later = (created + dt.timedelta(minutes=5), created + dt.timedelta(minutes=9))
        assert TwilioBackend().find_call(REQUEST, *later) is None
        validate(twilio_openapi, mock.calls[0].request)
        assert "To=%2B16175232338" in mock.calls[0].request.url and "From=%2B18559299898" in mock.calls[0].request.url


@pytest.mark.parametrize("mode", ["", "Enable", "DetectMessageEnd"])
def test_create_call_request_is_valid_against_twilio_openapi(twilio_openapi, mode):
    from dataclasses import replace

    prepared = sent(replace(REQUEST, machine_detection=mode))
    validate(twilio_openapi, prepared)
    body = form(prepared)
    assert body["To"] == ["+16175232338"] and body["From"] == ["+18559299898"]
    assert body["Url"] == [REQUEST.voice_url] and body["Method"] == ["POST"]
    assert body["StatusCallback"] == [REQUEST.status_callback_url] and body["StatusCallbackMethod"] == ["POST"]
    assert body["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert body["Timeout"] == ["25"]
    assert body.get("MachineDetection", [""]) == [mode]
    assert prepared.headers["Authorization"].startswith("Basic ")


def test_the_validator_catches_a_bad_request(twilio_openapi):
    """The check above means something: a request Twilio would refuse fails it."""
    from openapi_core.validation.request.exceptions import RequestValidationError

    bad = requests.Request("POST", CALLS, data={"To": "+16175232338", "Timeout": "soon"}).prepare()
    with pytest.raises(RequestValidationError):
        validate(twilio_openapi, bad)


def test_api_base_url_setting_is_honoured(settings):
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:8999/"
    prepared = sent(REQUEST, base_url="http://127.0.0.1:8999")
    assert prepared.url == f"http://127.0.0.1:8999/2010-04-01/Accounts/{SID}/Calls.json"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("human_check", "action", "expected"),
    [("press1", "hangup", ""), ("amd", "hangup", "Enable"), ("amd", "message", "DetectMessageEnd")],
)
def test_place_passes_the_lines_machine_detection(client, line, outbox, human_check, action, expected):
    line.human_check, line.machine_action = human_check, action
    line.save()
    assert client.get("/outgoing", {"phone": "6175232338", "campaign_line": line.phone_number}).status_code == 200
    (request,) = outbox
    assert request.machine_detection == expected
    attempt = CallAttempt.objects.get()
    assert request.voice_url == f"https://calls.example.org/clicktocall/twilio/voice/{attempt.token}/"
    assert request.status_callback_url == f"https://calls.example.org/clicktocall/twilio/status/{attempt.token}/"
    assert attempt.status == "queued"


@pytest.mark.django_db
def test_twilio_refusing_the_call_is_an_error_with_the_record_kept(client, line, settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "twilio"
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, CALLS, json={"code": 21215, "message": "not permitted", "status": 400}, status=400)
        response = client.get("/outgoing", {"phone": "6175232338", "campaign_line": line.phone_number})
    assert response.status_code == 400 and response.json()["message"] == "Sorry, there was an error."
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "error" and "21215" in attempt.error_detail


@pytest.mark.django_db
def test_console_backend_logs_what_the_call_would_say_and_whom_it_dials(client, line, settings, caplog):
    settings.CLICKTOCALL_LOG_FULL_NUMBERS = True
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "console"
    line.script = "Hello {{ name }} in {{ zip }}."
    line.save()
    Target.objects.create(line=line, name="Office A", phone_number="+12025550100", extension="12")
    with caplog.at_level(logging.DEBUG, logger="clicktocall.telephony.console"):  # the transcript is at DEBUG
        params = {"phone": "6175232338", "campaign_line": line.phone_number, "name": "Ann", "zip": "02113"}
        assert client.get("/outgoing", params).status_code == 200
    text = caplog.text
    assert "would call +16175232338 from +18559299898" in text
    assert "would connect it to Office A +12025550100 ext. 12" in text
    assert 'Says: "Hello Ann in 02113."' in text
    assert "Dials +12025550100, then sends the digits 12" in text


def check_ids(settings) -> list[str]:
    from clicktocall.checks import check_settings

    return [message.id for message in check_settings() if isinstance(message, checks.CheckMessage)]


def test_checks_name_missing_twilio_settings(settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "twilio"
    settings.CLICKTOCALL_PUBLIC_URL = "https://calls.example.org"
    assert check_ids(settings) == []
    settings.TWILIO_AUTH_TOKEN = ""
    assert check_ids(settings) == ["clicktocall.E002"]
    settings.TWILIO_AUTH_TOKEN = "x"
    settings.CLICKTOCALL_PUBLIC_URL = ""
    assert check_ids(settings) == ["clicktocall.E003"]
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "locmem"
    assert check_ids(settings) == []


def test_line_model_defaults_to_press_one():
    assert CampaignLine().human_check == "press1"
