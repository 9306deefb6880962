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
    return opted_out(params)


def opted_out(params: Any) -> Refusal | None:
    """Refuse a number on the do-not-call list (its owner pressed the opt-out key)."""
    from django.db.models import Q
    from django.utils import timezone

    from .calls import Outcome
    from .models import BlockEntry

    if not params.phone:
        return None
    blocked = BlockEntry.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()), kind=BlockEntry.Kind.PHONE, value=params.phone
    ).exists()
    if blocked:
        return Refusal(Outcome.ERROR, "blocked", "the number is on the do-not-call list")
    return None
