"""A small stand-in for Twilio, served on loopback, that plays Twilio's part in whole calls.

It answers the Calls resource (``POST /2010-04-01/Accounts/{sid}/Calls.json``) like
Twilio: HTTP basic auth with the account SID and auth token, a form body, a JSON call
resource in return. ``run_call`` then does what Twilio does with the call: posts the
status callbacks that were asked for, fetches the voice URL with a request signed the
way Twilio signs (``twilio.request_validator.RequestValidator``), and follows the TwiML
(``Say``, ``Play``, ``Pause``, ``Gather`` with simulated digits, ``Dial`` with simulated
target outcomes, ``Redirect``, ``Hangup``), recording what the caller would hear.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import ssl
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urljoin

import requests
from twilio.request_validator import RequestValidator

CALLS_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-fA-F]{32})/Calls\.json$")
MAX_STEPS = 40  # webhook requests per call, against TwiML loops


@dataclass
class CreateRequest:
    """One request the Calls resource received."""

    path: str
    headers: dict[str, str]
    body: bytes
    form: dict[str, list[str]]
    sid: str
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    peer: tuple = ()  # the client's address and port: one per connection

    @property
    def at(self) -> float:
        """When it arrived, in seconds since the epoch."""
        return self.created_at.timestamp()

    def value(self, name: str, default: str = "") -> str:
        return self.form.get(name, [default])[0]


@dataclass
class Scenario:
    """How the simulated people on a call behave.

    - ``answer``: what the constituent's phone does: ``answer``, ``busy``, ``no-answer``, ``failed``.
    - ``answered_by``: what machine detection reports (when the call asked for it).
    - ``digits``: keys pressed at successive ``<Gather>`` prompts ("" or none left: no input).
    - ``dial_outcomes``: per target number, ``completed`` (talks ``talk_seconds``), ``busy``,
      ``no-answer``, ``failed``, or ``star`` (the caller presses ``*`` after ``star_after`` seconds).
    - ``hang_up_on``: the caller hangs up on hearing a ``<Say>`` that contains this text.
    """

    answer: str = "answer"
    answered_by: str = "human"
    digits: list[str] = field(default_factory=list)
    dial_outcomes: dict[str, str] = field(default_factory=dict)
    talk_seconds: int = 42
    star_after: int = 3
    hang_up_on: str | None = None


@dataclass
class SimulatedCall:
    """What happened on one call."""

    sid: str
    heard: list[str] = field(default_factory=list)
    dialed: list[dict[str, str]] = field(default_factory=list)
    webhooks: list[tuple[str, dict[str, str], int]] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    status_responses: list[int] = field(default_factory=list)
    ended_by: str = ""
    seconds: float = 0.0

    @property
    def said(self) -> list[str]:
        return [line[len("Say: ") :] for line in self.heard if line.startswith("Say: ")]


class TwilioStandIn:
    """The stand-in server; ``base_url`` goes into ``TWILIO_API_BASE_URL``."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        tls: ssl.SSLContext | None = None,
        calls_per_second: float | None = None,
    ) -> None:
        """``tls``: serve HTTPS with this server context; ``calls_per_second``: answer 429
        to a create-call request beyond that many in the last second, as a provider does."""
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.created: list[CreateRequest] = []
        self.calls_per_second = calls_per_second
        self.refused: list[float] = []  # arrival times of the requests answered 429
        self.queue_time = "0"  # what the created call says of the provider's own queue (ms)
        # Seconds the Calls resource waits, after creating the call, before it answers.
        self.reply_delay = 0.0
        # Whether it creates the calls it is asked for (False: it answers, late, having created none).
        self.creates_calls = True
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def _over_rate(self, now: float) -> bool:
        if self.calls_per_second is None:
            return False
        recent = sum(1 for created in reversed(self.created[-1000:]) if created.at > now - 1.0)
        return recent >= self.calls_per_second

    def start(self) -> TwilioStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # The Calls resource

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps connections alive, like the real API

            def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
                pass

            def _json(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                match = CALLS_PATH.match(self.path)
                if not match:
                    return self._json(404, {"code": 20404, "message": "not found", "status": 404})
                expected = base64.b64encode(f"{standin.account_sid}:{standin.auth_token}".encode()).decode()
                if match["sid"] != standin.account_sid or self.headers.get("Authorization") != f"Basic {expected}":
                    return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                form = parse_qs(body.decode(), keep_blank_values=True)
                if not form.get("To") or not form.get("From") or not form.get("Url"):
                    return self._json(400, {"code": 21201, "message": "To, From and Url are required", "status": 400})
                sid = "CA" + secrets.token_hex(16)
                with standin._lock:
                    now = dt.datetime.now(dt.UTC)
                    if standin._over_rate(now.timestamp()):
                        standin.refused.append(now.timestamp())
                        return self._json(429, {"code": 20429, "message": "Too Many Requests", "status": 429})
                    if standin.creates_calls:
                        peer = self.client_address
                        created = CreateRequest(self.path, dict(self.headers), body, form, sid, now, peer)
                        standin.created.append(created)
                if standin.reply_delay:
                    time.sleep(standin.reply_delay)
                return self._json(201, standin.resource(sid, form["To"][0], form["From"][0]))

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                """The Calls resource's list: the created calls, newest first, filtered by To and From."""
                path, _, query = self.path.partition("?")
                match = CALLS_PATH.match(path)
                if not match:
                    return self._json(404, {"code": 20404, "message": "not found", "status": 404})
                expected = base64.b64encode(f"{standin.account_sid}:{standin.auth_token}".encode()).decode()
                if match["sid"] != standin.account_sid or self.headers.get("Authorization") != f"Basic {expected}":
                    return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                wanted = {key: values[0] for key, values in parse_qs(query).items() if key in ("To", "From")}
                with standin._lock:
                    found = [
                        standin.resource(c.sid, c.value("To"), c.value("From"), c.created_at)
                        for c in reversed(standin.created)
                        if all(c.value(key) == value for key, value in wanted.items())
                    ]
                uri = f"/2010-04-01/Accounts/{standin.account_sid}/Calls.json"
                return self._json(
                    200,
                    {
                        "calls": found,
                        "page": 0,
                        "page_size": 50,
                        "start": 0,
                        "end": len(found) - 1,
                        "uri": uri,
                        "first_page_uri": uri,
                        "next_page_uri": None,
                        "previous_page_uri": None,
                    },
                )

        return Handler

    def resource(self, sid: str, to: str, from_: str, created_at: dt.datetime | None = None) -> dict:
        """A call resource as Twilio writes it."""
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": from_,
            "status": "queued",
            "queue_time": self.queue_time,
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": format_datetime(created_at or dt.datetime.now(dt.UTC), usegmt=True),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
        }

    # Playing Twilio's part in a call

    def sign(self, url: str, params: dict[str, str]) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def post(self, url: str, params: dict[str, str], signature: str | None = None) -> requests.Response:
        headers = {"X-Twilio-Signature": self.sign(url, params) if signature is None else signature}
        return requests.post(url, data=params, headers=headers, timeout=10, allow_redirects=False)

    def run_call(self, created: CreateRequest, scenario: Scenario) -> SimulatedCall:
        """Play the whole call ``created`` asked for, in this thread."""
        return _CallRun(self, created, scenario).run()


class _CallRun:
    def __init__(self, standin: TwilioStandIn, created: CreateRequest, scenario: Scenario) -> None:
        self.standin = standin
        self.created = created
        self.scenario = scenario
        self.digits = list(scenario.digits)
        self.call = SimulatedCall(sid=created.sid)
        self.events = created.form.get("StatusCallbackEvent", ["completed"])
        self.sequence = 0
        self.steps = 0
        self.base = {
            "AccountSid": standin.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": created.sid,
            "Direction": "outbound-api",
            "From": created.value("From"),
            "To": created.value("To"),
        }

    def run(self) -> SimulatedCall:
        self._status("initiated", "initiated")
        self._status("ringing", "ringing")
        if self.scenario.answer != "answer":
            self.call.ended_by = self.scenario.answer
            self._status("completed", self.scenario.answer, CallDuration="0")
            return self.call
        self._status("answered", "in-progress")
        params = {**self.base, "CallStatus": "in-progress"}
        if self.created.value("MachineDetection"):
            params["AnsweredBy"] = self.scenario.answered_by
        try:
            self._follow(self.created.value("Url"), self.created.value("Method", "POST"), params)
        finally:
            self._status("completed", "completed", CallDuration=str(int(self.call.seconds)))
        return self.call

    def _status(self, event: str, status: str, **extra: str) -> None:
        url = self.created.value("StatusCallback")
        if not url or event not in self.events:
            return
        params = {
            **self.base,
            "CallStatus": status,
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(self.sequence),
            "Timestamp": format_datetime(dt.datetime.now(dt.UTC)),
            **extra,
        }
        self.sequence += 1
        self.call.statuses.append(status)
        self.call.status_responses.append(self.standin.post(url, params).status_code)

    def _follow(self, url: str, method: str, params: dict[str, str]) -> None:
        while url:
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise AssertionError("the TwiML loops")
            assert method.upper() == "POST", f"webhook method {method} not simulated"
            response = self.standin.post(url, params)
            self.call.webhooks.append((url, params, response.status_code))
            if response.status_code != 200:
                self.call.heard.append("Twilio: an application error has occurred")
                self.call.ended_by = f"HTTP {response.status_code}"
                return
            root = ET.fromstring(response.content)
            assert root.tag == "Response", response.text
            url, method, params = self._execute(root, url)

    def _execute(self, root: ET.Element, current: str) -> tuple[str, str, dict[str, str]]:
        """Run the verbs of one document; return the next request to make ("" when the call ends)."""
        base = {**self.base, "CallStatus": "in-progress"}
        for verb in root:
            if verb.tag in ("Say", "Play", "Pause"):
                if not self._hear(verb):
                    return "", "", {}
            elif verb.tag == "Gather":
                for nested in verb:
                    if not self._hear(nested):
                        return "", "", {}
                pressed = self.digits.pop(0) if self.digits else ""
                if pressed:
                    self.call.heard.append(f"Pressed {pressed}")
                    action = urljoin(current, verb.get("action") or current)
                    return action, verb.get("method", "POST"), {**base, "Digits": pressed}
                self.call.heard.append("(no key pressed)")
            elif verb.tag == "Dial":
                params = self._dial(verb)
                if verb.get("action"):
                    return urljoin(current, verb.get("action")), verb.get("method", "POST"), {**base, **params}
            elif verb.tag == "Redirect":
                return urljoin(current, (verb.text or "").strip()), verb.get("method", "POST"), base
            elif verb.tag in ("Hangup", "Reject"):
                self.call.heard.append("Hangup")
                self.call.ended_by = "hangup"
                return "", "", {}
            else:
                raise AssertionError(f"TwiML verb <{verb.tag}> is not simulated")
        self.call.ended_by = "end of TwiML"
        return "", "", {}

    def _hear(self, verb: ET.Element) -> bool:
        """The caller hears a verb; False when they hang up on it."""
        text = (verb.text or "").strip()
        if verb.tag == "Say":
            self.call.heard.append(f"Say: {text}")
            self.call.seconds += max(1.0, len(text.split()) / 2.5)
            if self.scenario.hang_up_on and self.scenario.hang_up_on in text:
                self.call.heard.append("(caller hung up)")
                self.call.ended_by = "caller"
                return False
        elif verb.tag == "Play":
            self.call.heard.append(f"Play: {text}")
            self.call.seconds += 10
        elif verb.tag == "Pause":
            self.call.seconds += int(verb.get("length", "1"))
        else:
            raise AssertionError(f"<{verb.tag}> inside <Gather> is not simulated")
        return True

    def _dial(self, verb: ET.Element) -> dict[str, str]:
        numbers = [n for n in verb if n.tag == "Number"]
        assert len(numbers) == 1, "one <Number> per <Dial>"
        number = (numbers[0].text or "").strip()
        outcome = self.scenario.dial_outcomes.get(number, "completed")
        self.call.dialed.append(
            {
                "number": number,
                "sendDigits": numbers[0].get("sendDigits", ""),
                "callerId": verb.get("callerId", ""),
                "hangupOnStar": verb.get("hangupOnStar", "false"),
                "outcome": outcome,
            }
        )
        self.call.heard.append(f"Dial: {number}")
        if outcome == "star" and verb.get("hangupOnStar") != "true":
            outcome = "completed"  # * does nothing without hangupOnStar: the caller waits the call out
        seconds = {"completed": self.scenario.talk_seconds, "star": self.scenario.star_after}.get(outcome, 0)
        self.call.seconds += seconds
        if outcome == "star":
            self.call.heard.append("Pressed *")
        status = "completed" if outcome == "star" else outcome
        return {
            "DialCallStatus": status,
            "DialCallSid": "CA" + secrets.token_hex(16),
            "DialCallDuration": str(seconds),
        }
