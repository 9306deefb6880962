"""Limits and refusals applied to a valid request before a call is placed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .calls import Outcome


@dataclass(frozen=True)
class Refusal:
    """Why a valid request places no call: the answer, the recorded outcome, a detail."""

    outcome: Outcome
    code: str
    detail: str
    retry_after: int | None = None


def refusal(line: Any, params: Any, meta: Any) -> Refusal | None:
    """The first limit the request runs into, or None when the call may be placed."""
    return None
