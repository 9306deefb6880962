"""Test backend: keeps placed calls in ``clicktocall.telephony.outbox``.

Failures can be scripted: append an exception to ``LocmemBackend.failures`` and the
next ``place_call`` raises it instead of placing the call.
"""

from __future__ import annotations

import threading

from ... import telephony
from .base import BaseTelephonyBackend, CallRequest, ProviderCall

_lock = threading.Lock()


class LocmemBackend(BaseTelephonyBackend):
    name = "locmem"
    failures: list[BaseException] = []

    def place_call(self, call: CallRequest) -> ProviderCall:
        with _lock:
            if LocmemBackend.failures:
                raise LocmemBackend.failures.pop(0)
            telephony.outbox.append(call)
            return ProviderCall(sid=f"CAlocmem{len(telephony.outbox):026d}", status="queued")
