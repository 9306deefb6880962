"""The app's settings, read lazily from ``django.conf.settings`` with defaults.

Each is read from ``settings`` when first asked for and kept until a setting changes
(Django's ``setting_changed``, which ``override_settings`` sends): nothing is read at
import time, and a request does not read and convert the same settings again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed

from .hosts import lowered

DEFAULTS: dict[str, Any] = {
    # Telephony
    "CLICKTOCALL_TELEPHONY_BACKEND": "console",
    "CLICKTOCALL_PUBLIC_URL": "",
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_API_BASE_URL": "https://api.twilio.com",
    "CLICKTOCALL_RING_TIMEOUT": 30,
    # Numbers
    "CLICKTOCALL_DEFAULT_REGION": "US",
    # Redirects
    "CLICKTOCALL_REDIRECT_HOSTS": [],
    # Clients
    "CLICKTOCALL_TRUSTED_PROXIES": 0,
    "CLICKTOCALL_IPV6_PREFIX": 64,
    # Abuse protection
    "CLICKTOCALL_CACHE": "default",
    "CLICKTOCALL_LIMIT_STORE": "auto",
    "CLICKTOCALL_COOLDOWN_SECONDS": 180,
    "CLICKTOCALL_IP_RATE": "10/m,60/h,200/d",
    "CLICKTOCALL_PHONE_RATE": "6/h,20/d",
    "CLICKTOCALL_DAILY_CAP": 2000,
    "CLICKTOCALL_ALLOWED_COUNTRIES": [],
    "CLICKTOCALL_BLOCKLIST_CACHE_SECONDS": 300,
    "CLICKTOCALL_REFUSED_RECORDS_PER_HOUR": 100,
    # Placement off the request path, and logs
    "CLICKTOCALL_PLACEMENT": "direct",
    "CLICKTOCALL_PLACEMENT_RETRIES": 4,
    "CLICKTOCALL_PLACEMENT_BACKOFF": 2.0,
    "CLICKTOCALL_MAX_QUEUE_WAIT": 120.0,
    "CLICKTOCALL_LOG_FULL_NUMBERS": False,
    # The provider's rate: calls created per second, paced across all processes (0: no
    # pacing); scheduled calls are spread out at it
    "CLICKTOCALL_PROVIDER_CPS": 1,
    # Targets
    "CLICKTOCALL_US_DATA_MAX_AGE_DAYS": 180,
    # Events out: webhooks to the campaign's systems
    "CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS": [],
    "CLICKTOCALL_WEBHOOK_BACKOFF": 60.0,
    "CLICKTOCALL_WEBHOOK_RETRY_PERIOD": 86400,
    "CLICKTOCALL_WEBHOOK_MAX_BYTES": 65536,
}

BACKEND_ALIASES = {
    "console": "clicktocall.telephony.backends.console.ConsoleBackend",
    "locmem": "clicktocall.telephony.backends.locmem.LocmemBackend",
    "twilio": "clicktocall.telephony.backends.twilio.TwilioBackend",
}


class kept:  # noqa: N801 - used like ``property``
    """A ``property`` whose value is kept until a setting changes (a list: a copy of it is given)."""

    def __init__(self, compute):
        self.compute, self.name, self.__doc__ = compute, compute.__name__, compute.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        try:
            value = instance._kept[self.name]
        except KeyError:
            value = instance._kept[self.name] = self.compute(instance)
        return list(value) if isinstance(value, list) else value


class Settings:
    """Typed, lazy access to the app's settings."""

    def __init__(self) -> None:
        self._kept: dict[str, Any] = {}

    def forget(self, **kwargs: Any) -> None:
        """Drop the kept values: a setting changed."""
        self._kept.clear()

    def _get(self, name: str) -> Any:
        return getattr(django_settings, name, DEFAULTS[name])

    @kept
    def TELEPHONY_BACKEND(self) -> str:
        value = self._get("CLICKTOCALL_TELEPHONY_BACKEND")
        return BACKEND_ALIASES.get(value, value)

    @kept
    def PUBLIC_URL(self) -> str:
        return str(self._get("CLICKTOCALL_PUBLIC_URL") or "").rstrip("/")

    @kept
    def TWILIO_ACCOUNT_SID(self) -> str:
        return self._get("TWILIO_ACCOUNT_SID") or ""

    @kept
    def TWILIO_AUTH_TOKEN(self) -> str:
        return self._get("TWILIO_AUTH_TOKEN") or ""

    @kept
    def TWILIO_API_BASE_URL(self) -> str:
        return str(self._get("TWILIO_API_BASE_URL") or DEFAULTS["TWILIO_API_BASE_URL"]).rstrip("/")

    @kept
    def RING_TIMEOUT(self) -> int:
        return int(self._get("CLICKTOCALL_RING_TIMEOUT"))

    @kept
    def DEFAULT_REGION(self) -> str:
        return str(self._get("CLICKTOCALL_DEFAULT_REGION")).upper()

    def _hosts(self, name: str) -> list[str]:
        """A setting that lists host names, lowercased."""
        value = self._get(name) or []
        if isinstance(value, str):  # a mistake the checks report; never a list of characters
            value = value.split(",")
        return [lowered(host.strip()) for host in value if isinstance(host, str) and host.strip()]

    @kept
    def REDIRECT_HOSTS(self) -> list[str]:
        return self._hosts("CLICKTOCALL_REDIRECT_HOSTS")

    @kept
    def TRUSTED_PROXIES(self) -> int:
        return int(self._get("CLICKTOCALL_TRUSTED_PROXIES"))

    @kept
    def IPV6_PREFIX(self) -> int:
        """IPv6 clients are counted and blocked by network of this prefix length (a /64 by default)."""
        return int(self._get("CLICKTOCALL_IPV6_PREFIX"))

    @kept
    def LIMIT_STORE(self) -> str:
        """``auto``, ``cache`` or ``database``: where cooldowns and rate counters live (see ``limits``)."""
        return str(self._get("CLICKTOCALL_LIMIT_STORE") or "auto").strip().lower()

    @kept
    def CACHE(self) -> str:
        """The alias of the cache (in ``CACHES``) that holds cooldowns and rate counters."""
        return str(self._get("CLICKTOCALL_CACHE"))

    @kept
    def COOLDOWN_SECONDS(self) -> int:
        return int(self._get("CLICKTOCALL_COOLDOWN_SECONDS") or 0)

    @kept
    def IP_RATE(self) -> str:
        return str(self._get("CLICKTOCALL_IP_RATE") or "")

    @kept
    def PHONE_RATE(self) -> str:
        return str(self._get("CLICKTOCALL_PHONE_RATE") or "")

    @kept
    def DAILY_CAP(self) -> int:
        return int(self._get("CLICKTOCALL_DAILY_CAP") or 0)

    @kept
    def ALLOWED_COUNTRIES(self) -> list[str]:
        from .phone import country_codes

        value = self._get("CLICKTOCALL_ALLOWED_COUNTRIES") or []
        return country_codes(value if isinstance(value, str) else ",".join(str(code) for code in value))

    @kept
    def BLOCKLIST_CACHE_SECONDS(self) -> int:
        return int(self._get("CLICKTOCALL_BLOCKLIST_CACHE_SECONDS"))

    @kept
    def REFUSED_RECORDS_PER_HOUR(self) -> int:
        """Refused requests per client address and hour whose attempts keep their details."""
        return int(self._get("CLICKTOCALL_REFUSED_RECORDS_PER_HOUR"))

    @kept
    def PLACEMENT(self) -> str:
        """``direct``: the request places the call; ``queued``: a task worker does."""
        return str(self._get("CLICKTOCALL_PLACEMENT") or "direct").strip().lower()

    @kept
    def PLACEMENT_RETRIES(self) -> int:
        """How many times a transient provider error is retried before the attempt fails."""
        return max(0, int(self._get("CLICKTOCALL_PLACEMENT_RETRIES")))

    @kept
    def PLACEMENT_BACKOFF(self) -> float:
        """Seconds before the first retry; each further retry waits twice as long."""
        return max(0.0, float(self._get("CLICKTOCALL_PLACEMENT_BACKOFF")))

    @kept
    def PROVIDER_CPS(self) -> float:
        """How many calls a second the provider account may create (Twilio's CPS, 1 by default); 0: no pacing."""
        try:
            value = float(self._get("CLICKTOCALL_PROVIDER_CPS"))
        except (TypeError, ValueError):
            return 1.0
        return max(0.0, value)

    @kept
    def MAX_QUEUE_WAIT(self) -> float:
        """Seconds a call may wait for its turn before it is refused (busy) or not placed (expired)."""
        return max(0.0, float(self._get("CLICKTOCALL_MAX_QUEUE_WAIT") or 0))

    @kept
    def LOG_FULL_NUMBERS(self) -> bool:
        return bool(self._get("CLICKTOCALL_LOG_FULL_NUMBERS"))

    @kept
    def US_DATA_MAX_AGE_DAYS(self) -> int:
        """How old (by its release date) the US Congress data may be before ``check`` warns."""
        return int(self._get("CLICKTOCALL_US_DATA_MAX_AGE_DAYS"))

    @kept
    def WEBHOOK_ALLOWED_HOSTS(self) -> list[str]:
        """Hosts (names or addresses; ``.example.org`` for a domain) webhooks may reach on a
        loopback, private or link-local address, e.g. a CRM inside the campaign's network."""
        return self._hosts("CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS")

    @kept
    def WEBHOOK_BACKOFF(self) -> float:
        """Seconds before a failed delivery's first retry; each further retry waits twice as long."""
        return max(0.0, float(self._get("CLICKTOCALL_WEBHOOK_BACKOFF")))

    @kept
    def WEBHOOK_RETRY_PERIOD(self) -> int:
        """Seconds during which a failed delivery is retried; an endpoint failing this long is paused."""
        return max(0, int(self._get("CLICKTOCALL_WEBHOOK_RETRY_PERIOD")))

    @kept
    def WEBHOOK_MAX_BYTES(self) -> int:
        """The largest body a webhook carries; a larger event leaves out its variables."""
        return max(1024, int(self._get("CLICKTOCALL_WEBHOOK_MAX_BYTES")))


conf = Settings()
setting_changed.connect(conf.forget, dispatch_uid="clicktocall.conf.forget")
