"""The Twilio backend with its HTTP layer intercepted at the edge, the console backend,
``get_backend`` and the system checks."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from urllib3.exceptions import ProtocolError

from clicktocall.checks import check_settings
from clicktocall.models import CallAttempt
from clicktocall.telephony import CallRequest, get_backend
from clicktocall.telephony.backends.console import ConsoleBackend
from clicktocall.telephony.backends.locmem import LocmemBackend
from clicktocall.telephony.backends.twilio import TwilioBackend

from .contract import ERROR, LINE, PHONE, PLACED, THROTTLED, VALID, message

SID = "AC" + "0" * 32
TOKEN = "test-auth-token"
BASE = "https://api.twilio.com"
CALLS = f"{BASE}/2010-04-01/Accounts/{SID}/Calls.json"
CALL_SID = "CA" + "1" * 32


def created(sid: str = CALL_SID, status: str = "queued") -> dict:
    return {"sid": sid, "status": status, "account_sid": SID, "to": PHONE, "from": LINE}


def twilio_error(status: int, code: int, text: str) -> dict:
    return {"code": code, "message": text, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


@pytest.fixture
def twilio(settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_API_BASE_URL = BASE
    settings.CLICKTOCALL_PUBLIC_URL = "https://calls.example.org"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def sent_form(call) -> dict[str, list[str]]:
    return parse_qs(call.request.body, keep_blank_values=True, strict_parsing=True)


@pytest.mark.django_db
def test_exact_form_sent_to_the_calls_resource(client, line, twilio):
    twilio.add(responses.POST, CALLS, json=created(), status=201)
    r = client.get("/outgoing", VALID)
    assert r.status_code == 200 and message(r) == PLACED

    assert len(twilio.calls) == 1
    call = twilio.calls[0]
    assert call.request.method == "POST" and call.request.url == CALLS
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    expected_auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert call.request.headers["Authorization"] == expected_auth
    attempt = CallAttempt.objects.get()
    assert sent_form(call) == {
        "To": [PHONE],
        "From": [LINE],
        "Url": [f"https://calls.example.org/clicktocall/twilio/voice/{attempt.token}/"],
        "Method": ["POST"],
        "StatusCallback": [f"https://calls.example.org/clicktocall/twilio/status/{attempt.token}/"],
        "StatusCallbackMethod": ["POST"],
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
        "Timeout": ["30"],
    }
    assert (attempt.outcome, attempt.provider_call_id, attempt.status) == ("placed", CALL_SID, "queued")


@pytest.mark.django_db
def test_ring_timeout_setting_is_sent(client, line, twilio, settings):
    settings.CLICKTOCALL_RING_TIMEOUT = 45
    twilio.add(responses.POST, CALLS, json=created(), status=201)
    client.get("/outgoing", VALID)
    assert sent_form(twilio.calls[0])["Timeout"] == ["45"]


@pytest.mark.django_db
def test_api_base_url_is_honoured(client, line, twilio, settings):
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:8999/twilio/"
    twilio.add(responses.POST, f"http://127.0.0.1:8999/twilio/2010-04-01/Accounts/{SID}/Calls.json", json=created())
    r = client.get("/outgoing", VALID)
    assert message(r) == PLACED
    assert twilio.calls[0].request.url.startswith("http://127.0.0.1:8999/twilio/2010-04-01/")


def test_credentials_are_read_per_call(settings, twilio):
    twilio.add(responses.POST, f"{BASE}/2010-04-01/Accounts/AC{'9' * 32}/Calls.json", json=created())
    settings.TWILIO_ACCOUNT_SID = "AC" + "9" * 32
    settings.TWILIO_AUTH_TOKEN = "other-token"
    call = CallRequest(to=PHONE, from_=LINE, attempt_token="t", voice_url="https://x.test/v")
    assert TwilioBackend().place_call(call).sid == CALL_SID
    auth = twilio.calls[0].request.headers["Authorization"]
    assert base64.b64decode(auth.split()[1]).decode() == f"AC{'9' * 32}:other-token"


FAILURES = [
    pytest.param(
        {"json": twilio_error(400, 21211, "The 'To' number +16175232338 is not a valid phone number."), "status": 400},
        "HTTP 400, code 21211",
        id="4xx-invalid-number",
    ),
    pytest.param(
        {"json": twilio_error(401, 20003, "Authenticate"), "status": 401}, "HTTP 401, code 20003", id="4xx-auth"
    ),
    pytest.param({"json": twilio_error(429, 20429, "Too Many Requests"), "status": 429}, "HTTP 429", id="429-too-many"),
    pytest.param({"json": twilio_error(500, 20500, "Internal Server Error"), "status": 500}, "HTTP 500", id="5xx"),
    pytest.param({"body": "<html>Bad Gateway</html>", "status": 502}, "HTTP 502", id="5xx-html"),
    pytest.param(
        {"body": requests.exceptions.ConnectTimeout("connect timed out")}, "ConnectTimeout", id="connect-timeout"
    ),
    pytest.param(
        {"body": requests.exceptions.ConnectionError("[Errno 111] Connection refused")},
        "Connection refused",
        id="connection-refused",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("reply,detail", FAILURES)
def test_each_failure_mode_is_an_error_recorded_on_the_attempt(client, line, twilio, reply, detail):
    twilio.add(responses.POST, CALLS, **reply)
    r = client.get("/outgoing", VALID)
    assert r.status_code == 400 and message(r) == ERROR
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "error"
    assert detail in attempt.error_detail
    assert attempt.provider_call_id == ""
    assert len(twilio.calls) == 1


SENT_THEN_LOST = [
    pytest.param(requests.exceptions.ReadTimeout("read timed out"), id="read-timeout"),
    pytest.param(
        requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))),
        id="connection-dropped-while-waiting",
    ),
    pytest.param(requests.exceptions.ChunkedEncodingError("answer cut short"), id="answer-cut-short"),
    pytest.param({"json": twilio_error(504, 20504, "Gateway Timeout"), "status": 504}, id="gateway-timeout"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("error", SENT_THEN_LOST)
def test_an_answer_lost_after_the_request_was_sent_is_unknown_not_failed(client, line, twilio, limits, error):
    twilio.add(responses.POST, CALLS, **(error if isinstance(error, dict) else {"body": error}))
    assert message(client.get("/outgoing", VALID)) == ERROR
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "unknown" and attempt.error_detail.startswith("Twilio did not answer")
    assert message(client.get("/outgoing", VALID)) == THROTTLED  # the cooldown holds: the call may ring
    assert len(twilio.calls) == 1


@pytest.mark.django_db
def test_connection_refused_for_real(client, line, settings):
    """No interception at all: a loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "twilio"
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"
    r = client.get("/outgoing", VALID)
    assert message(r) == ERROR
    assert "Twilio unreachable: ConnectionError" in CallAttempt.objects.get().error_detail


class _StandIn(BaseHTTPRequestHandler):
    received: list[tuple[str, dict, str]] = []

    def do_POST(self):  # noqa: N802 - the stdlib's name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        _StandIn.received.append((self.path, dict(self.headers), body))
        payload = json.dumps(created("CA" + "2" * 32)).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


@pytest.mark.django_db
def test_a_local_stand_in_server_receives_the_call(client, line, settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _StandIn.received = []
    try:
        settings.CLICKTOCALL_TELEPHONY_BACKEND = "twilio"
        settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
        r = client.get("/outgoing", VALID)
    finally:
        server.shutdown()
        server.server_close()
    assert message(r) == PLACED
    [(path, headers, body)] = _StandIn.received
    assert path == f"/2010-04-01/Accounts/{SID}/Calls.json"
    assert parse_qs(body)["To"] == [PHONE]
    assert CallAttempt.objects.get().provider_call_id == "CA" + "2" * 32


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"])
def test_missing_credentials_are_an_error_naming_the_setting(client, line, twilio, settings, missing):
    setattr(settings, missing, "")
    r = client.get("/outgoing", VALID)
    assert message(r) == ERROR
    assert missing in CallAttempt.objects.get().error_detail
    assert len(twilio.calls) == 0


# The console backend and get_backend


def test_console_backend_logs_what_it_would_dial(caplog, settings):
    settings.CLICKTOCALL_LOG_FULL_NUMBERS = True
    call = CallRequest(to=PHONE, from_=LINE, attempt_token="tok", voice_url="https://calls.example.org/v/tok/")
    with caplog.at_level(logging.INFO, logger="clicktocall.telephony.console"):
        placed = ConsoleBackend().place_call(call)
    assert placed.sid.startswith("CA") and len(placed.sid) == 34 and placed.status == "simulated"
    assert f"would call {PHONE} from {LINE}" in caplog.text
    assert placed.sid in caplog.text and "https://calls.example.org/v/tok/" in caplog.text


@pytest.mark.django_db
def test_console_backend_through_outgoing(client, line, settings, caplog):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "console"
    with caplog.at_level(logging.INFO, logger="clicktocall.telephony.console"):
        r = client.get("/outgoing", VALID)
    assert message(r) == PLACED
    assert CallAttempt.objects.get().provider_call_id in caplog.text


@pytest.mark.parametrize(
    "setting,cls",
    [
        ("console", ConsoleBackend),
        ("locmem", LocmemBackend),
        ("twilio", TwilioBackend),
        ("clicktocall.telephony.backends.locmem.LocmemBackend", LocmemBackend),
        ("tests.test_outgoing_records.RecordFirstBackend", None),
    ],
)
def test_get_backend_by_alias_or_dotted_path(settings, setting, cls):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = setting
    backend = get_backend()
    if cls is None:
        from tests.test_outgoing_records import RecordFirstBackend as cls
    assert type(backend) is cls


def test_get_backend_with_a_path_argument_and_options():
    backend = get_backend("clicktocall.telephony.backends.console.ConsoleBackend", region="us1")
    assert isinstance(backend, ConsoleBackend) and backend.options == {"region": "us1"}


@pytest.mark.parametrize("path", ["no.such.Backend", "clicktocall.telephony.backends.console.Nope", "nodots"])
def test_get_backend_bad_path_names_the_setting(settings, path):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = path
    with pytest.raises(ImproperlyConfigured, match="CLICKTOCALL_TELEPHONY_BACKEND") as info:
        get_backend()
    assert path in str(info.value)


@pytest.mark.django_db
def test_bad_backend_setting_is_an_error_not_a_500(client, line, settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "no.such.Backend"
    r = client.get("/outgoing", VALID)
    assert message(r) == ERROR
    assert "CLICKTOCALL_TELEPHONY_BACKEND" in CallAttempt.objects.get().error_detail


# System checks


def ids() -> list[str]:
    return sorted(e.id for e in check_settings())


def test_checks_pass_on_the_test_settings():
    assert ids() == []


def test_checks_pass_for_a_complete_twilio_setup(settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "twilio"
    assert ids() == []


@pytest.mark.parametrize(
    "overrides,expected",
    [
        ({"CLICKTOCALL_TELEPHONY_BACKEND": "no.such.Backend"}, ["clicktocall.E001"]),
        ({"CLICKTOCALL_TELEPHONY_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": ""}, ["clicktocall.E002"]),
        ({"CLICKTOCALL_TELEPHONY_BACKEND": "twilio", "TWILIO_AUTH_TOKEN": ""}, ["clicktocall.E002"]),
        (
            {"CLICKTOCALL_TELEPHONY_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""},
            ["clicktocall.E002", "clicktocall.E002"],
        ),
        (
            {"CLICKTOCALL_TELEPHONY_BACKEND": "twilio", "CLICKTOCALL_PUBLIC_URL": "http://calls.example.org"},
            ["clicktocall.E003"],
        ),
        ({"CLICKTOCALL_TELEPHONY_BACKEND": "twilio", "CLICKTOCALL_PUBLIC_URL": ""}, ["clicktocall.E003"]),
        ({"CLICKTOCALL_DEFAULT_REGION": "USA"}, ["clicktocall.E004"]),
        ({"CLICKTOCALL_DEFAULT_REGION": "XX"}, ["clicktocall.E004"]),
        ({"CLICKTOCALL_TRUSTED_PROXIES": -1}, ["clicktocall.E005"]),
        ({"CLICKTOCALL_TRUSTED_PROXIES": "two"}, ["clicktocall.E005"]),
        ({"CLICKTOCALL_REDIRECT_HOSTS": ["*"]}, ["clicktocall.E006"]),
        ({"CLICKTOCALL_REDIRECT_HOSTS": "www.example.org"}, ["clicktocall.E006"]),
        ({"CLICKTOCALL_REDIRECT_HOSTS": [b"www.example.org"]}, ["clicktocall.E006"]),
    ],
)
def test_each_check_fires_when_its_setting_is_wrong(settings, overrides, expected):
    for name, value in overrides.items():
        setattr(settings, name, value)
    assert ids() == expected


@pytest.mark.django_db
def test_checks_are_registered(settings):
    settings.CLICKTOCALL_DEFAULT_REGION = "USA"
    assert "clicktocall.E004" in [e.id for e in run_checks()]


def test_region_check_accepts_lowercase(settings):
    settings.CLICKTOCALL_DEFAULT_REGION = "gb"
    assert ids() == []


# One kept-alive connection per thread and process


@pytest.fixture
def standin(settings):
    from .twilio_standin import TwilioStandIn

    server = TwilioStandIn(SID, TOKEN).start()
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
    settings.TWILIO_API_BASE_URL = server.base_url
    yield server
    server.stop()


def _place(to: str = PHONE) -> str:
    request = CallRequest(to=to, from_=LINE, attempt_token="t", voice_url="https://calls.example.org/v")
    return TwilioBackend().place_call(request).sid


def test_calls_of_one_thread_share_one_connection_to_the_provider(standin):
    sids = [_place() for _ in range(3)]
    assert [c.sid for c in standin.created] == sids
    assert len({c.peer for c in standin.created}) == 1  # one TCP connection (one TLS handshake in production)


def test_each_thread_has_its_own_client_and_connection(standin):
    clients, errors = [], []

    def work():
        try:
            _place()
            clients.append(TwilioBackend().get_client())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and len(clients) == 2 and clients[0] is not clients[1]
    assert len({c.peer for c in standin.created}) == 2


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_opens_its_own_connection(standin):
    import os

    parent_client = TwilioBackend().get_client()
    _place()
    pid = os.fork()
    if pid == 0:  # the child: a new client, and a call over a connection of its own
        try:
            fresh = TwilioBackend().get_client() is not parent_client
            _place()
            os._exit(0 if fresh else 3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(standin.created) == 2 and standin.created[0].peer != standin.created[1].peer


def test_a_settings_change_builds_a_new_client(standin, settings):
    first = TwilioBackend().get_client()
    settings.TWILIO_AUTH_TOKEN = "another-token"
    assert TwilioBackend().get_client() is not first


@pytest.mark.django_db
def test_the_console_transcript_is_kept_for_a_test_call_and_logged_only_at_debug(line, caplog):
    from clicktocall.callflow import request_extra

    line.script = "Hello {{ name }}."
    line.save()
    test_call = CallAttempt.objects.create(line=line, phone=PHONE, name="Ann", is_test=True)
    visitor = CallAttempt.objects.create(line=line, phone=PHONE, name="Ann")
    with caplog.at_level(logging.INFO, logger="clicktocall.telephony.console"):
        call = request_extra(test_call, ConsoleBackend())
        assert "Ann" in call["transcript"]  # for the test call's page in the admin
        placed = ConsoleBackend().place_call(CallRequest(to=PHONE, from_=LINE, attempt_token="tok", extra=call))
        assert "transcript" not in request_extra(visitor, ConsoleBackend())  # nothing built that nobody reads
    assert "Ann" in placed.transcript and "Ann" not in caplog.text
    with caplog.at_level(logging.DEBUG, logger="clicktocall.telephony.console"):
        assert "Ann" in request_extra(visitor, ConsoleBackend())["transcript"]  # for the log
