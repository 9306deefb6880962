"""What each event carries: ``{"type", "timestamp", "data"}``, as Standard Webhooks recommends.

``data`` describes the call attempt (``attempt_data``); ``call.status_changed`` adds
``old_status`` and ``new_status``, ``call.completed`` the target legs. An endpoint that
does not take personal data gets no name, email, number nor variables, and the number
as ``phone_hash`` instead. A body larger than ``CLICKTOCALL_WEBHOOK_MAX_BYTES`` leaves
out the variables (``variables_omitted``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from ..conf import conf
from ..models import CallAttempt
from .models import Event, WebhookEndpoint
from .signing import phone_hash

PERSONAL = ("name", "email", "phone", "variables")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def attempt_data(attempt: CallAttempt) -> dict[str, Any]:
    """The attempt as every event describes it (with personal data)."""
    line = attempt.line
    return {
        "attempt_id": attempt.pk,
        "line": {"id": line.pk, "phone_number": line.phone_number, "name": line.name},
        "outcome": attempt.outcome,
        "status": attempt.status,
        "name": attempt.name,
        "email": attempt.email,
        "phone": attempt.phone,
        "variables": attempt.variables,
        "created_at": _iso(attempt.created_at),
        "answered_at": _iso(attempt.answered_at),
        "ended_at": _iso(attempt.ended_at),
        "duration": attempt.duration,
        "connected_legs": attempt.connected_legs,
        "is_test": attempt.is_test,
    }


def legs_data(attempt: CallAttempt) -> list[dict[str, Any]]:
    return [
        {
            "position": leg.position,
            "target_id": leg.target_id,
            "target_name": leg.target_name,
            "target_number": leg.target_number,
            "status": leg.status,
            "duration": leg.duration,
        }
        for leg in attempt.legs.all()
    ]


def event_data(event: str, attempt: CallAttempt, extra: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` of ``event`` about ``attempt`` (personal data included)."""
    data = attempt_data(attempt)
    if event == Event.CALL_STATUS_CHANGED:
        data["old_status"] = extra.get("old_status", "")
        data["new_status"] = extra.get("new_status", "")
    if event == Event.CALL_COMPLETED:
        data["legs"] = legs_data(attempt)
    return data


def for_endpoint(data: dict[str, Any], endpoint: WebhookEndpoint) -> dict[str, Any]:
    """``data`` as ``endpoint`` may receive it."""
    if endpoint.include_personal_data:
        return data
    kept = {key: value for key, value in data.items() if key not in PERSONAL}
    kept["phone_hash"] = phone_hash(endpoint.secret, data.get("phone", ""))
    return kept


def body(event: str, occurred_at: str, data: dict[str, Any]) -> str:
    """The JSON body, within ``CLICKTOCALL_WEBHOOK_MAX_BYTES``."""
    envelope = {"type": event, "timestamp": occurred_at, "data": data}
    text = json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > conf.WEBHOOK_MAX_BYTES and "variables" in data:
        envelope["data"] = {**data, "variables": {}, "variables_omitted": True}
        text = json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return text
