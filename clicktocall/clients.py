"""What can be trusted about the client of a request."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from .conf import conf


def _ip(text: str) -> str | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, reading ``X-Forwarded-For`` only through trusted proxies.

    With ``CLICKTOCALL_TRUSTED_PROXIES = n``, the address is the one the n-th proxy from
    us saw: the n-th entry from the right of ``X-Forwarded-For`` + ``REMOTE_ADDR``.
    Entries a client adds itself stand further left and are never read.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = conf.TRUSTED_PROXIES
    if trusted <= 0:
        return _ip(remote)
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    chain = forwarded + [remote]
    index = len(chain) - 1 - trusted
    return _ip(chain[max(index, 0)])
