"""System checks: each names the setting that is wrong and how to fix it."""

from __future__ import annotations

from django.core import checks
from django.utils.module_loading import import_string

from .conf import BACKEND_ALIASES, conf


@checks.register()
def check_settings(app_configs=None, **kwargs):
    errors = []
    try:
        import_string(conf.TELEPHONY_BACKEND)
    except ImportError:
        errors.append(
            checks.Error(
                f"CLICKTOCALL_TELEPHONY_BACKEND names {conf.TELEPHONY_BACKEND!r}, which cannot be imported.",
                hint=f"Use one of {', '.join(BACKEND_ALIASES)} or a dotted path to a BaseTelephonyBackend subclass.",
                id="clicktocall.E001",
            )
        )
    if conf.TELEPHONY_BACKEND == BACKEND_ALIASES["twilio"]:
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
            if not getattr(conf, name):
                errors.append(
                    checks.Error(
                        f"{name} is not set but the Twilio telephony backend is configured.",
                        hint=f"Set the {name} environment variable (from the Twilio console).",
                        id="clicktocall.E002",
                    )
                )
        if not conf.PUBLIC_URL.startswith("https://"):
            errors.append(
                checks.Error(
                    "CLICKTOCALL_PUBLIC_URL must be the https:// base URL Twilio reaches this site at.",
                    hint="Set CLICKTOCALL_PUBLIC_URL, e.g. https://calls.example.org; webhook signatures are checked against it.",
                    id="clicktocall.E003",
                )
            )
    try:
        region_ok = len(conf.DEFAULT_REGION) == 2
    except (TypeError, ValueError):
        region_ok = False
    if not region_ok:
        errors.append(
            checks.Error(
                "CLICKTOCALL_DEFAULT_REGION must be a two-letter country code such as 'US'.",
                id="clicktocall.E004",
            )
        )
    try:
        if conf.TRUSTED_PROXIES < 0:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(
            checks.Error(
                "CLICKTOCALL_TRUSTED_PROXIES must be a whole number, 0 or more.",
                hint="Set it to the number of reverse proxies in front of the site (0 when none).",
                id="clicktocall.E005",
            )
        )
    if not isinstance(conf.REDIRECT_HOSTS, list) or "*" in conf.REDIRECT_HOSTS:
        errors.append(
            checks.Error(
                "CLICKTOCALL_REDIRECT_HOSTS must be a list of host names, without '*'.",
                hint="List the hosts revmsghtml may redirect to; '*' would make /outgoing an open redirect.",
                id="clicktocall.E006",
            )
        )
    return errors


@checks.register()
def check_limits(app_configs=None, **kwargs):
    """The abuse limits: rates that parse, whole numbers, real country codes."""
    import phonenumbers

    from .limits import parse_rates

    errors = []
    for name, value in (("CLICKTOCALL_IP_RATE", conf.IP_RATE), ("CLICKTOCALL_PHONE_RATE", conf.PHONE_RATE)):
        try:
            parse_rates(value)
        except ValueError as exc:
            errors.append(
                checks.Error(
                    f"{name} is {value!r}: {exc}.",
                    hint="Write a count per period, e.g. 5/m, 10/h, 20/d or 3/30s; several comma-separated; "
                    "empty or off for no limit.",
                    id="clicktocall.E101",
                )
            )
    try:
        unknown = [c for c in conf.ALLOWED_COUNTRIES if c not in phonenumbers.SUPPORTED_REGIONS]
    except TypeError:
        unknown = ["?"]
    if unknown:
        errors.append(
            checks.Error(
                f"CLICKTOCALL_ALLOWED_COUNTRIES has unknown country codes: {', '.join(unknown)}.",
                hint="Use two-letter ISO codes such as US, CA, GB.",
                id="clicktocall.E102",
            )
        )
    for name in ("COOLDOWN_SECONDS", "DAILY_CAP", "BLOCKLIST_CACHE_SECONDS"):
        try:
            ok = getattr(conf, name) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            errors.append(
                checks.Error(
                    f"CLICKTOCALL_{name} must be a whole number, 0 or more.", id="clicktocall.E103"
                )
            )
    return errors
