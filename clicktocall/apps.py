"""The app's configuration; registers the system checks."""

from django.apps import AppConfig


class ClickToCallConfig(AppConfig):
    name = "clicktocall"
    verbose_name = "Click-to-Call"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, lines  # noqa: F401  (registers the checks; staff edits renew the kept lines)
        from .events import checks as event_checks  # noqa: F401  (registers the webhook settings' checks)
        from .events import receivers  # noqa: F401  (publishes events to webhook endpoints)
        from .targets.us_congress import checks as us_congress_checks  # noqa: F401
