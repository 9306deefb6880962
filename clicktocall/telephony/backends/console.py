"""Development backend: logs the call it would place instead of dialing.

It shows whom the call would dial (at INFO) and, at the ``DEBUG`` level (the transcript
speaks the visitor's name and variables), what it would say, from the same call-flow code
the webhooks answer Twilio with (``CallRequest.extra["transcript"]``). The call it returns
is ``simulated``; a staff's test call keeps its transcript for the admin, which renders
the transcript of any other simulated call when it is opened.
"""

from __future__ import annotations

import logging
import secrets

from .base import BaseTelephonyBackend, CallRequest, ProviderCall

logger = logging.getLogger("clicktocall.telephony.console")


class ConsoleBackend(BaseTelephonyBackend):
    name = "console"
    describes_calls = True

    def wants_transcript(self) -> bool:
        """When the transcript is logged (``DEBUG``); a test call's is built in any case."""
        return logger.isEnabledFor(logging.DEBUG)

    def place_call(self, call: CallRequest) -> ProviderCall:
        sid = "CA" + secrets.token_hex(16)
        targets = call.extra.get("targets") or []
        logger.info(
            "console telephony: would call %s from %s (call %s, voice URL %s%s)%s",
            call.to,
            call.from_,
            sid,
            call.voice_url or "-",
            f", machine detection {call.machine_detection}" if call.machine_detection else "",
            "; would connect it to "
            + "; ".join(f"{name} {number}" + (f" ext. {ext}" if ext else "") for name, number, ext in targets)
            if targets
            else "",
        )
        if call.extra.get("transcript"):
            # It speaks the visitor's name and variables, which the logs keep out at INFO and above.
            logger.debug("console telephony: the call would go like this:\n%s", call.extra["transcript"])
        return ProviderCall(sid=sid, status="simulated", transcript=call.extra.get("transcript") or "")
