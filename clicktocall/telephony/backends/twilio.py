"""Production backend: places calls through Twilio's REST API.

The ``twilio`` package is imported lazily. Each thread of a process keeps one client,
and with it one HTTP connection to the provider (kept alive: no new TLS handshake per
call); the client is rebuilt when the settings it was built from change (so
``override_settings`` and ``TWILIO_API_BASE_URL``, a stand-in server, work) and is never
shared with a child process after a fork.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime
from typing import Any

from ...conf import conf
from ...exceptions import ClickToCallConfigurationError, TelephonyError
from .base import BaseTelephonyBackend, CallRequest, ProviderCall

logger = logging.getLogger("clicktocall.telephony.twilio")

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
REQUEST_TIMEOUT = 10  # seconds for the HTTP request to the Calls resource
GATEWAY_TIMEOUT = 504
LOOKUP_LIMIT = 50  # the most recent calls between two numbers that a look-up reads


_clients = threading.local()  # per thread: requests' sessions are not safe to share between threads


def forget_clients() -> None:
    """Drop every kept client: a forked child opens its own connections (never its parent's socket)."""
    global _clients
    _clients = threading.local()


os.register_at_fork(after_in_child=forget_clients)


def new_client(sid: str, token: str, base_url: str) -> Any:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    client = Client(sid, token, http_client=TwilioHttpClient(timeout=REQUEST_TIMEOUT))
    client.api.base_url = base_url
    return client


def queue_time(created: Any) -> int | None:
    """Twilio's ``queue_time`` of a created call (milliseconds, as text), or None."""
    value = str(getattr(created, "queue_time", None) or "").strip()
    return int(value) if value.isdigit() and int(value) < 2**31 else None


class TwilioBackend(BaseTelephonyBackend):
    name = "twilio"

    def get_client(self) -> Any:
        """This thread's client for the current settings (built on first use, then kept)."""
        sid, token = conf.TWILIO_ACCOUNT_SID, conf.TWILIO_AUTH_TOKEN
        if not sid:
            raise ClickToCallConfigurationError("TWILIO_ACCOUNT_SID", "is not set")
        if not token:
            raise ClickToCallConfigurationError("TWILIO_AUTH_TOKEN", "is not set")
        key = (sid, token, conf.TWILIO_API_BASE_URL)
        if getattr(_clients, "key", None) != key:
            _clients.client, _clients.key = new_client(*key), key
        return _clients.client

    def prepare(self) -> None:
        self.get_client()

    def call_parameters(self, call: CallRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "to": call.to,
            "from_": call.from_,
            "url": call.voice_url,
            "method": "POST",
            "timeout": call.ring_timeout,
        }
        if call.status_callback_url:
            params["status_callback"] = call.status_callback_url
            params["status_callback_method"] = "POST"
            params["status_callback_event"] = STATUS_EVENTS
        if call.machine_detection:
            params["machine_detection"] = call.machine_detection
        return params

    def place_call(self, call: CallRequest) -> ProviderCall:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        client = self.get_client()
        try:
            created = client.calls.create(**self.call_parameters(call))
        except TwilioRestException as exc:
            transient = exc.status >= 500 or exc.status == 429
            ambiguous = exc.status == GATEWAY_TIMEOUT  # a proxy gave up waiting: Twilio may have created it
            raise TelephonyError(
                f"Twilio {'did not answer' if ambiguous else 'refused the call'}: "
                f"HTTP {exc.status}, code {exc.code}: {exc.msg}",
                transient=transient,
                status=exc.status,
                ambiguous=ambiguous,
            ) from exc
        except TwilioException as exc:
            raise TelephonyError(f"Twilio error: {exc}", transient=True) from exc
        except OSError as exc:  # connection refused, DNS, timeouts (requests' errors are OSErrors)
            if sent(exc):
                raise TelephonyError(
                    f"Twilio did not answer: {exc.__class__.__name__}: {exc}", transient=True, ambiguous=True
                ) from exc
            raise TelephonyError(f"Twilio unreachable: {exc.__class__.__name__}: {exc}", transient=True) from exc
        return ProviderCall(sid=created.sid, status=str(created.status or "queued"), queue_time=queue_time(created))

    def find_call(self, call: CallRequest, created_from: datetime, created_until: datetime) -> ProviderCall | None:
        """Twilio's call to ``call.to`` from ``call.from_`` created between the two times.

        Twilio's list of calls is filtered by number, not by the webhook URLs that name the
        attempt: the times tell the attempt's call from others between the same numbers
        (the cooldown keeps those minutes apart). Two matching calls cannot be told apart.
        """
        from twilio.base.exceptions import TwilioException

        client = self.get_client()
        try:
            found = client.calls.list(to=call.to, from_=call.from_, limit=LOOKUP_LIMIT)
        except (TwilioException, OSError) as exc:
            raise TelephonyError(f"Twilio look-up failed: {exc.__class__.__name__}: {exc}", transient=True) from exc
        matches = [c for c in found if c.date_created and created_from <= c.date_created <= created_until]
        if len(matches) > 1:
            raise TelephonyError(f"Twilio look-up: {len(matches)} calls match, cannot tell which is the attempt's")
        return ProviderCall(sid=matches[0].sid, status=str(matches[0].status or "queued")) if matches else None


def sent(exc: OSError) -> bool:
    """Whether the request may have reached Twilio before ``exc``: then the call may exist.

    A read timeout, a connection dropped while waiting for the answer, or an answer cut
    short happen after the request was sent. A refused connection, a failed DNS look-up,
    a connect timeout or a failed TLS handshake happen before: no call was created.
    """
    import requests
    from urllib3.exceptions import ProtocolError

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError)):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        return bool(exc.args) and isinstance(exc.args[0], ProtocolError)
    return False
