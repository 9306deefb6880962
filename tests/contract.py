"""The /outgoing contract's messages, verbatim, and small helpers for its tests."""

from __future__ import annotations

import json

PLACED = "The call's been placed."
INVALID = "Sorry, but you haven't provided any of the info we were expecting."
UNCONFIGURED = "This phone number is not configured."
THROTTLED = "Sorry, you're calling too quickly."
ERROR = "Sorry, there was an error."

LINE = "+18559299898"
PHONE = "+16175232338"
VALID = {"phone": "(617) 523-2338", "campaign_line": "8559299898"}


def message(response) -> str:
    """The contract body's message; asserts the body is exactly {error, message}."""
    body = json.loads(response.content)
    assert set(body) == {"error", "message"}, body
    assert body["error"] is (body["message"] != PLACED), body
    return body["message"]


def jsonp_payload(response, callback: str) -> dict:
    """The object a JSONP answer hands to ``callback``."""
    text = response.content.decode()
    prefix, suffix = f"/**/{callback}(", ");"
    assert text.startswith(prefix) and text.endswith(suffix), text
    return json.loads(text[len(prefix) : -len(suffix)])
