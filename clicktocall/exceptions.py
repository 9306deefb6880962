"""The app's error tree.

``ClickToCallError`` is the root of errors raised while serving requests;
configuration errors subclass Django's ``ImproperlyConfigured`` instead, so that they
are never mistaken for a caller's or provider's fault.
"""

from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation


class ClickToCallError(Exception):
    """Base class of runtime errors raised by the app."""


class TelephonyError(ClickToCallError):
    """The provider refused the call or could not be reached.

    ``ambiguous``: the request reached the provider, but its answer did not reach us (a
    timeout after sending, a connection dropped while waiting): the call may exist.
    ``transient``: trying again later may succeed.
    """

    def __init__(self, message: str, *, transient: bool = False, status: int | None = None, ambiguous: bool = False):
        super().__init__(message)
        self.transient = transient
        self.status = status
        self.ambiguous = ambiguous


class WebhookSignatureError(SuspiciousOperation):
    """A provider webhook request failed signature validation."""


class ClickToCallConfigurationError(ImproperlyConfigured):
    """A setting the app needs is missing or wrong; the message names it."""

    def __init__(self, setting: str, problem: str):
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
