"""Webhook views Twilio calls: the voice URL (TwiML) and the status callback."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..exceptions import WebhookSignatureError
from ..models import CallAttempt
from . import signature

logger = logging.getLogger("clicktocall.webhooks")


def _attempt(request: HttpRequest, token: str) -> CallAttempt | HttpResponse:
    try:
        signature.validate(request)
    except WebhookSignatureError as exc:
        logger.warning("webhook refused: %s", exc)
        return HttpResponseForbidden("invalid signature")
    attempt = CallAttempt.objects.select_related("line").filter(token=token).first()
    if attempt is None:
        return HttpResponseNotFound("unknown call")
    return attempt


@csrf_exempt
@require_POST
def voice(request: HttpRequest, token: str) -> HttpResponse:
    from twilio.twiml.voice_response import VoiceResponse

    found = _attempt(request, token)
    if isinstance(found, HttpResponse):
        return found
    response = VoiceResponse()
    response.hangup()
    return HttpResponse(str(response), content_type="text/xml")


@csrf_exempt
@require_POST
def status(request: HttpRequest, token: str) -> HttpResponse:
    found = _attempt(request, token)
    if isinstance(found, HttpResponse):
        return found
    return HttpResponse(status=204)
