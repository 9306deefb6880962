"""A telephony backend that takes as long as a real provider: it sleeps, then accepts."""

from __future__ import annotations

import os
import secrets
import time

from clicktocall.telephony.backends.base import BaseTelephonyBackend, CallRequest, ProviderCall


class SlowBackend(BaseTelephonyBackend):
    """Answers after ``BENCH_PROVIDER_DELAY`` seconds (0.3 by default), like Twilio's API on a bad day."""

    name = "slow"

    def place_call(self, call: CallRequest) -> ProviderCall:
        time.sleep(float(os.environ.get("BENCH_PROVIDER_DELAY", "0.3")))
        return ProviderCall(sid="CA" + secrets.token_hex(16), status="queued")
