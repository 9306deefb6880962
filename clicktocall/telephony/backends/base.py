"""The interface every telephony backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CallRequest:
    """Everything a provider needs to place one call."""

    to: str
    from_: str
    attempt_token: str
    voice_url: str = ""
    status_callback_url: str = ""
    ring_timeout: int = 30
    # Twilio's MachineDetection mode: "" (off), "Enable" or "DetectMessageEnd".
    machine_detection: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderCall:
    """The provider's answer to a placed call."""

    sid: str
    status: str = "queued"
    # What the call said and did, from a backend that simulates calls instead of dialing.
    transcript: str = ""
    queue_time: int | None = None  # milliseconds the call waited in the provider's own queue, when it says


class BaseTelephonyBackend:
    """Places calls. Subclasses implement ``place_call``.

    ``place_call`` returns a ``ProviderCall`` or raises ``TelephonyError``; it never
    touches a request or the database.
    """

    name = "base"

    def __init__(self, **kwargs: Any) -> None:
        self.options = kwargs

    def prepare(self) -> None:
        """Get ready to place calls (e.g. build the provider's client), so that ``place_call`` only sends."""

    def place_call(self, call: CallRequest) -> ProviderCall:  # pragma: no cover - interface
        raise NotImplementedError("subclasses of BaseTelephonyBackend must implement place_call()")

    def find_call(self, call: CallRequest, created_from: datetime, created_until: datetime) -> ProviderCall | None:
        """The call the provider created for ``call`` between the two times, or None: it created none.

        For an attempt whose ``place_call`` lost the provider's answer. Raises
        ``TelephonyError`` when the provider cannot tell (unreachable, or several calls
        match), ``NotImplementedError`` when the backend cannot look calls up.
        """
        raise NotImplementedError(f"the {self.name} backend cannot look calls up")
