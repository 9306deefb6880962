"""Telephony backends, chosen by dotted path like Django's email backends.

``get_backend()`` returns an instance of the configured backend
(``CLICKTOCALL_TELEPHONY_BACKEND``: ``console``, ``locmem``, ``twilio`` or a dotted path).
"""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string

from ..conf import conf
from ..exceptions import ClickToCallConfigurationError
from .backends.base import BaseTelephonyBackend, CallRequest, ProviderCall

__all__ = ["BaseTelephonyBackend", "CallRequest", "ProviderCall", "get_backend", "outbox"]

# The locmem backend appends every placed CallRequest here (tests read it).
outbox: list[CallRequest] = []


def get_backend(path: str | None = None, **kwargs: Any) -> BaseTelephonyBackend:
    dotted = path or conf.TELEPHONY_BACKEND
    try:
        cls = import_string(dotted)
    except ImportError as exc:
        raise ClickToCallConfigurationError(
            "CLICKTOCALL_TELEPHONY_BACKEND", f"cannot import {dotted!r} ({exc})"
        ) from exc
    return cls(**kwargs)
