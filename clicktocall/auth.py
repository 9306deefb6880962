"""Admin login throttling with django-axes, counting clients like /outgoing counts them."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest

from . import clients


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses logins from an address locked out after too many failures.

    Every login over the web (the admin's form) passes its request and is throttled.
    A login without a request (the shell, a test client's ``login()``) has no address
    to throttle and is left to the next backend.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request: HttpRequest) -> str:
    """The address axes counts failures against, read like /outgoing reads it.

    Through trusted proxies only; an IPv6 client is its network (a /64 by default), named
    by the network's first address, so guessing from any address of it counts as one.
    """
    return clients.client_key(clients.client_ip(request)) or ""
