"""Sources of targets, chosen per line: ``resolve`` turns a line and an attempt's variables into targets.

Like the telephony backends, each source is a small class behind one interface
(``base.TargetSource``); ``SOURCES`` maps a line's ``target_source`` to its class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

from .base import Office, Resolution, ResolvedTarget, TargetSource

if TYPE_CHECKING:
    from ..models import CampaignLine

SOURCES = {
    "custom": "clicktocall.targets.custom.CustomTargets",
    "us-congress": "clicktocall.targets.us_congress.source.CongressTargets",
}

__all__ = [
    "Office",
    "Resolution",
    "ResolvedTarget",
    "TargetSource",
    "get_source",
    "request_problems",
    "resolve",
    "with_zip",
]


def get_source(line: CampaignLine) -> TargetSource:
    return import_string(SOURCES.get(line.target_source, SOURCES["custom"]))()


def resolve(line: CampaignLine, variables: Mapping[str, Any], *, seed: str = "") -> Resolution:
    """The targets of a call on ``line`` with ``variables``, in the order they are called."""
    return get_source(line).resolve(line, variables, seed=seed)


def request_problems(line: CampaignLine, variables: Mapping[str, Any]) -> dict[str, str]:
    """What makes a request bad input for the line's source (e.g. a malformed ZIP code); no query."""
    return get_source(line).request_problems(variables)


def with_zip(variables: Any, zip_code: str) -> dict[str, Any]:
    """An attempt's variables with the ZIP code the caller keyed in, which replaces the location the page sent."""
    from .us_congress.location import KEYS

    kept = {k: v for k, v in variables.items() if k not in KEYS} if isinstance(variables, dict) else {}
    return {**kept, "zip": zip_code}
