"""Development backend: logs the call it would place instead of dialing."""

from __future__ import annotations

import logging
import secrets

from .base import BaseTelephonyBackend, CallRequest, ProviderCall

logger = logging.getLogger("clicktocall.telephony.console")


class ConsoleBackend(BaseTelephonyBackend):
    name = "console"

    def place_call(self, call: CallRequest) -> ProviderCall:
        sid = "CA" + secrets.token_hex(16)
        logger.warning(
            "console telephony: would call %s from %s (call %s, voice URL %s)",
            call.to,
            call.from_,
            sid,
            call.voice_url or "-",
        )
        return ProviderCall(sid=sid, status="queued")
