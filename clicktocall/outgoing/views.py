"""The DRF view for ``/outgoing``: one decision table, no business logic."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from django.http import HttpResponse, HttpResponseRedirect
from django.http.request import HttpHeaders
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import http_date
from rest_framework import exceptions
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import calls, logs
from ..clients import client_ip
from . import params as parameters
from .negotiation import Answer, JSONFirstNegotiation, choose
from .renderers import HTMLRenderer, JSONPRenderer, JSONRenderer
from .schema import outgoing_schema

logger = logging.getLogger("clicktocall.outgoing")


def _header(request, name: str) -> str:
    """A request header as storable text (PostgreSQL refuses NUL characters); ``name`` as in
    ``request.headers``, read from ``META`` (no mapping of every header built for two)."""
    return request.META.get(HttpHeaders.to_wsgi_name(name), "").replace("\x00", "\ufffd")


def back_url(request) -> str:
    """The page that posted the form (``Referer``), for the result page's link back; http(s) only."""
    referrer = _header(request, "Referer").strip()
    try:
        scheme, host = urlsplit(referrer)[:2]
    except ValueError:
        return ""
    return referrer if scheme.lower() in ("http", "https") and host else ""


# What ``add_never_cache_headers`` writes on a response that has no caching headers yet.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def never_cache(response) -> None:
    """The headers of ``add_never_cache_headers``, written directly when none is there yet."""
    if response.has_header("Expires") or response.has_header("Cache-Control"):
        add_never_cache_headers(response)
        return
    response.headers["Expires"] = http_date(time.time())
    response.headers["Cache-Control"] = NEVER_CACHE


@outgoing_schema
class OutgoingView(APIView):
    """Ask for a call: ``GET|POST /outgoing`` with ``phone`` and ``campaign_line``."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    parser_classes = [
        JSONParser,
        FormParser,
        MultiPartParser,
        parameters.PlainTextFormParser,
        parameters.HTMLFormParser,
    ]
    renderer_classes = [JSONRenderer, JSONPRenderer, HTMLRenderer]
    content_negotiation_class = JSONFirstNegotiation
    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        submitted, body_problem = parameters.read(request)
        params = parameters.validate(submitted, body_problem)
        meta = calls.RequestMeta(
            client_ip=client_ip(request),
            user_agent=_header(request, "User-Agent"),
            referrer=_header(request, "Referer"),
        )
        try:
            result = calls.request_call(params, meta)
        except Exception:  # database down and the like: the contract's error, never a 500
            logger.exception("could not handle an /outgoing request")
            result = calls.Result(calls.Outcome.ERROR)
        logs.log_request(params, result)
        return self.respond(request, params, result)

    def post(self, request, *args, **kwargs):
        return self.get(request, *args, **kwargs)

    def options(self, request, *args, **kwargs):
        response = HttpResponse(status=200)
        response["Allow"] = "GET, POST, OPTIONS"
        return response

    def respond(self, request, params: parameters.OutgoingParams, result: calls.Result):
        answer = choose(request, params, result.line)
        outcome = result.outcome
        if answer is Answer.REDIRECT:
            return HttpResponseRedirect(params.revmsghtml)
        status = outcome.status
        if answer is Answer.JSONP:
            request.accepted_renderer = JSONPRenderer()
            self.jsonp_callback = params.callback
            status = 200  # a browser runs no script served with 4xx; the error is in the payload
        elif answer is Answer.HTML:
            request.accepted_renderer = HTMLRenderer()
        else:
            request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = request.accepted_renderer.media_type
        response = Response(outcome.payload, status=status)
        if result.retry_after:
            response["Retry-After"] = str(result.retry_after)
        return response

    def get_renderer_context(self):
        context = super().get_renderer_context()
        context["callback"] = getattr(self, "jsonp_callback", "")
        if isinstance(getattr(self.request, "accepted_renderer", None), HTMLRenderer):
            context["html_context"] = {"back_url": back_url(self.request)}
        return context

    def handle_exception(self, exc):
        """Every failure answers the contract's JSON body; nothing becomes a 500."""
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        if isinstance(exc, exceptions.MethodNotAllowed):
            response = Response(calls.Outcome.ERROR.payload, status=405)
            response["Allow"] = ", ".join(self.allowed_methods)
            return response
        if isinstance(exc, (exceptions.ParseError, exceptions.UnsupportedMediaType)):
            return Response(calls.Outcome.INVALID.payload, status=400)
        logger.exception("unexpected error in /outgoing")
        return Response(calls.Outcome.ERROR.payload, status=400)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ["Accept"])
        never_cache(response)
        if getattr(request, "accepted_renderer", None) and request.accepted_renderer.format == "jsonp":
            response["X-Content-Type-Options"] = "nosniff"
        # A refusal is an answer of the contract, with its own line in the request log
        # (``clicktocall.attempts``): not also a "Bad Request" warning of ``django.request``.
        response._has_been_logged = True
        return response
