"""System checks of the webhook settings (``clicktocall.E060``–``E061``)."""

from __future__ import annotations

from django.core import checks

from ..conf import conf


@checks.register()
def check_webhook_settings(app_configs=None, **kwargs):
    errors = []
    hosts = conf._get("CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS")
    if not isinstance(hosts, (list, tuple)) or not all(isinstance(host, str) and host != "*" for host in hosts):
        errors.append(
            checks.Error(
                f"CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS must be a list of host names or addresses, without '*', "
                f"not {hosts!r}.",
                hint="List only the internal hosts webhooks may reach, e.g. ['crm.internal', '10.0.0.5']; "
                "leave it empty when every receiver is on the internet.",
                id="clicktocall.E060",
            )
        )
    for name in ("WEBHOOK_BACKOFF", "WEBHOOK_RETRY_PERIOD", "WEBHOOK_MAX_BYTES"):
        value = conf._get(f"CLICKTOCALL_{name}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            errors.append(checks.Error(f"CLICKTOCALL_{name} must be a number, 0 or more.", id="clicktocall.E061"))
    return errors
