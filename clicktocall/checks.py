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
def check_placement(app_configs=None, **kwargs):
    """``CLICKTOCALL_PLACEMENT`` and the task backend that queued placement needs."""
    from django.conf import settings

    errors = []
    if conf.PLACEMENT not in {"direct", "queued"}:
        errors.append(
            checks.Error(
                f"CLICKTOCALL_PLACEMENT is {conf.PLACEMENT!r}; it must be 'direct' or 'queued'.",
                id="clicktocall.E050",
            )
        )
    for name in ("CLICKTOCALL_PLACEMENT_RETRIES", "CLICKTOCALL_PLACEMENT_BACKOFF"):
        try:
            value = getattr(conf, name.removeprefix("CLICKTOCALL_"))
        except (TypeError, ValueError):
            value = None
        if value is None:
            errors.append(checks.Error(f"{name} must be a number, 0 or more.", id="clicktocall.E051"))
    backend = settings.TASKS.get("default", {}).get("BACKEND", "") if isinstance(settings.TASKS, dict) else ""
    if conf.PLACEMENT == "queued" and backend.endswith("ImmediateBackend") and not settings.DEBUG:
        errors.append(
            checks.Warning(
                "CLICKTOCALL_PLACEMENT is 'queued' but tasks run immediately, inside the request.",
                hint="Set DJANGO_TASKS_BACKEND=database and run `manage.py db_worker` next to the web processes.",
                id="clicktocall.W050",
            )
        )
    return errors
