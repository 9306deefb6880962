"""Validation of Twilio's ``X-Twilio-Signature`` on webhook requests."""

from __future__ import annotations

from django.http import HttpRequest

from ..conf import conf
from ..exceptions import WebhookSignatureError


def signed_url(request: HttpRequest) -> str:
    """The URL Twilio signed: the configured public base URL plus the request's path."""
    return conf.PUBLIC_URL + request.get_full_path()


def validate(request: HttpRequest) -> None:
    """Raise ``WebhookSignatureError`` unless the request carries a valid signature.

    Always checked, whatever ``DEBUG`` says; the comparison is constant-time.
    """
    from twilio.request_validator import RequestValidator

    token = conf.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        raise WebhookSignatureError("missing signature or auth token")
    params = request.POST.dict() if request.method == "POST" else {}
    if not RequestValidator(token).validate(signed_url(request), params, signature):
        raise WebhookSignatureError("invalid X-Twilio-Signature")
