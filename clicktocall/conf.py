"""The app's settings, read lazily from ``django.conf.settings`` with defaults.

Every property reads ``settings`` at call time, so ``override_settings`` works and
nothing is read at import time.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

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


class Settings:
    """Typed, lazy access to the app's settings."""

    def _get(self, name: str) -> Any:
        return getattr(django_settings, name, DEFAULTS[name])

    @property
    def TELEPHONY_BACKEND(self) -> str:
        value = self._get("CLICKTOCALL_TELEPHONY_BACKEND")
        return BACKEND_ALIASES.get(value, value)

    @property
    def PUBLIC_URL(self) -> str:
        return str(self._get("CLICKTOCALL_PUBLIC_URL") or "").rstrip("/")

    @property
    def TWILIO_ACCOUNT_SID(self) -> str:
        return self._get("TWILIO_ACCOUNT_SID") or ""

    @property
    def TWILIO_AUTH_TOKEN(self) -> str:
        return self._get("TWILIO_AUTH_TOKEN") or ""

    @property
    def TWILIO_API_BASE_URL(self) -> str:
        return str(self._get("TWILIO_API_BASE_URL") or DEFAULTS["TWILIO_API_BASE_URL"]).rstrip("/")

    @property
    def RING_TIMEOUT(self) -> int:
        return int(self._get("CLICKTOCALL_RING_TIMEOUT"))

    @property
    def DEFAULT_REGION(self) -> str:
        return str(self._get("CLICKTOCALL_DEFAULT_REGION")).upper()

    def _hosts(self, name: str) -> list[str]:
        """A setting that lists host names, lowercased."""
        value = self._get(name) or []
        if isinstance(value, str):  # a mistake the checks report; never a list of characters
            value = value.split(",")
        return [lowered(host.strip()) for host in value if isinstance(host, str) and host.strip()]

    @property
    def REDIRECT_HOSTS(self) -> list[str]:
        return self._hosts("CLICKTOCALL_REDIRECT_HOSTS")

    @property
    def TRUSTED_PROXIES(self) -> int:
        return int(self._get("CLICKTOCALL_TRUSTED_PROXIES"))

    @property
    def IPV6_PREFIX(self) -> int:
        """IPv6 clients are counted and blocked by network of this prefix length (a /64 by default)."""
        return int(self._get("CLICKTOCALL_IPV6_PREFIX"))

    @property
    def LIMIT_STORE(self) -> str:
        """``auto``, ``cache`` or ``database``: where cooldowns and rate counters live (see ``limits``)."""
        return str(self._get("CLICKTOCALL_LIMIT_STORE") or "auto").strip().lower()

    @property
    def CACHE(self) -> str:
        """The alias of the cache (in ``CACHES``) that holds cooldowns and rate counters."""
        return str(self._get("CLICKTOCALL_CACHE"))

    @property
    def COOLDOWN_SECONDS(self) -> int:
        return int(self._get("CLICKTOCALL_COOLDOWN_SECONDS") or 0)

    @property
    def IP_RATE(self) -> str:
        return str(self._get("CLICKTOCALL_IP_RATE") or "")

    @property
    def PHONE_RATE(self) -> str:
        return str(self._get("CLICKTOCALL_PHONE_RATE") or "")

    @property
    def DAILY_CAP(self) -> int:
        return int(self._get("CLICKTOCALL_DAILY_CAP") or 0)

    @property
    def ALLOWED_COUNTRIES(self) -> list[str]:
        from .phone import country_codes

        value = self._get("CLICKTOCALL_ALLOWED_COUNTRIES") or []
        return country_codes(value if isinstance(value, str) else ",".join(str(code) for code in value))

    @property
    def BLOCKLIST_CACHE_SECONDS(self) -> int:
        return int(self._get("CLICKTOCALL_BLOCKLIST_CACHE_SECONDS"))

    @property
    def REFUSED_RECORDS_PER_HOUR(self) -> int:
        """Refused requests per client address and hour whose attempts keep their details."""
        return int(self._get("CLICKTOCALL_REFUSED_RECORDS_PER_HOUR"))

    @property
    def PLACEMENT(self) -> str:
        """``direct``: the request places the call; ``queued``: a task worker does."""
        return str(self._get("CLICKTOCALL_PLACEMENT") or "direct").strip().lower()

    @property
    def PLACEMENT_RETRIES(self) -> int:
        """How many times a transient provider error is retried before the attempt fails."""
        return max(0, int(self._get("CLICKTOCALL_PLACEMENT_RETRIES")))

    @property
    def PLACEMENT_BACKOFF(self) -> float:
        """Seconds before the first retry; each further retry waits twice as long."""
        return max(0.0, float(self._get("CLICKTOCALL_PLACEMENT_BACKOFF")))

    @property
    def PROVIDER_CPS(self) -> float:
        """How many calls a second the provider account may create (Twilio's CPS, 1 by default); 0: no pacing."""
        try:
            value = float(self._get("CLICKTOCALL_PROVIDER_CPS"))
        except (TypeError, ValueError):
            return 1.0
        return max(0.0, value)

    @property
    def MAX_QUEUE_WAIT(self) -> float:
        """Seconds a call may wait for its turn before it is refused (busy) or not placed (expired)."""
        return max(0.0, float(self._get("CLICKTOCALL_MAX_QUEUE_WAIT") or 0))

    @property
    def LOG_FULL_NUMBERS(self) -> bool:
        return bool(self._get("CLICKTOCALL_LOG_FULL_NUMBERS"))

    @property
    def US_DATA_MAX_AGE_DAYS(self) -> int:
        """How old (by its release date) the US Congress data may be before ``check`` warns."""
        return int(self._get("CLICKTOCALL_US_DATA_MAX_AGE_DAYS"))

    @property
    def WEBHOOK_ALLOWED_HOSTS(self) -> list[str]:
        """Hosts (names or addresses; ``.example.org`` for a domain) webhooks may reach on a
        loopback, private or link-local address, e.g. a CRM inside the campaign's network."""
        return self._hosts("CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS")

    @property
    def WEBHOOK_BACKOFF(self) -> float:
        """Seconds before a failed delivery's first retry; each further retry waits twice as long."""
        return max(0.0, float(self._get("CLICKTOCALL_WEBHOOK_BACKOFF")))

    @property
    def WEBHOOK_RETRY_PERIOD(self) -> int:
        """Seconds during which a failed delivery is retried; an endpoint failing this long is paused."""
        return max(0, int(self._get("CLICKTOCALL_WEBHOOK_RETRY_PERIOD")))

    @property
    def WEBHOOK_MAX_BYTES(self) -> int:
        """The largest body a webhook carries; a larger event leaves out its variables."""
        return max(1024, int(self._get("CLICKTOCALL_WEBHOOK_MAX_BYTES")))


conf = Settings()
