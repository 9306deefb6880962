"""The Standard Webhooks signature (https://www.standardwebhooks.com/): any of its libraries verifies it.

``webhook-signature`` is ``v1,`` and the base64 HMAC-SHA256, keyed with the endpoint's
secret, of ``{webhook-id}.{webhook-timestamp}.{body}``.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def headers(secret: str, message_id: str, body: str, when: datetime | None = None) -> dict[str, str]:
    """The three headers of one try: the same id on every try, the time and signature of this one."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, when, body),
    }


def phone_hash(secret: str, e164: str) -> str:
    """The number as an HMAC-SHA256 (hex) keyed with the endpoint's secret: matchable, not readable."""
    if not e164:
        return ""
    return hmac.new(secret.encode(), e164.encode(), hashlib.sha256).hexdigest()
