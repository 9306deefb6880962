"""Benchmark-only telephony backends: a slow provider, and Twilio without a kept client."""

from __future__ import annotations

import os
import secrets
import time

from clicktocall.conf import conf
from clicktocall.telephony.backends.base import BaseTelephonyBackend, CallRequest, ProviderCall
from clicktocall.telephony.backends.twilio import TwilioBackend, new_client


class SlowBackend(BaseTelephonyBackend):
    """Answers after ``BENCH_PROVIDER_DELAY`` seconds (0.3 by default), like Twilio's API on a bad day."""

    name = "slow"

    def place_call(self, call: CallRequest) -> ProviderCall:
        time.sleep(float(os.environ.get("BENCH_PROVIDER_DELAY", "0.3")))
        return ProviderCall(sid="CA" + secrets.token_hex(16), status="queued")


class NewClientPerCallTwilioBackend(TwilioBackend):
    """The Twilio backend building a new client, hence a new connection, for every call."""

    def get_client(self):
        return new_client(conf.TWILIO_ACCOUNT_SID, conf.TWILIO_AUTH_TOKEN, conf.TWILIO_API_BASE_URL)
