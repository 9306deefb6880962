"""Webhook requests signed the way Twilio signs them (``X-Twilio-Signature``), through Django's test client."""

from __future__ import annotations

from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator


def signed_post(client, url: str, params: dict[str, str], token: str | None = None):
    """POST ``params`` to ``url``'s path, signed for the absolute ``url`` with ``token`` (the configured one)."""
    if token is None:
        from clicktocall.conf import conf

        token = conf.TWILIO_AUTH_TOKEN
    signature = RequestValidator(token).compute_signature(url, params)
    path = urlsplit(url)._replace(scheme="", netloc="").geturl()
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
