"""The blocklist: numbers that may not be called, and addresses that may not ask."""

from __future__ import annotations

from .models import BlockEntry


def add_opt_out(e164: str, note: str = "") -> BlockEntry:
    """Put a number on the do-not-call list (the person pressed the opt-out key)."""
    entry, _ = BlockEntry.objects.update_or_create(
        kind=BlockEntry.Kind.PHONE,
        value=e164,
        defaults={"reason": BlockEntry.Reason.OPT_OUT, "expires_at": None, "note": note},
    )
    return entry
