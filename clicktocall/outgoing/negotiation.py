"""How ``/outgoing`` chooses its answer: redirect, JSONP, JSON or an HTML page.

The rules are the contract's, checked in its order; see ``choose()``.
"""

from __future__ import annotations

import enum
import functools
import logging
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.http.request import MediaType
from rest_framework.negotiation import BaseContentNegotiation

from ..conf import conf
from ..hosts import is_allowed, url_host
from ..models import CampaignLine
from .params import OutgoingParams, content_length

logger = logging.getLogger("clicktocall.outgoing")

FORM_CONTENT_TYPES = {
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
    "text/html",
}


class Answer(enum.Enum):
    REDIRECT = "redirect"
    JSONP = "jsonp"
    JSON = "json"
    HTML = "html"


class JSONFirstNegotiation(BaseContentNegotiation):
    """Never answers 406: JSON unless the view chooses otherwise after parsing."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        content_type = media_type(request)
        for parser in parsers:
            if parser.media_type == content_type:
                return parser
        return None


JSON_TYPE = MediaType("application/json")
HTML_TYPE = MediaType("text/html")


def _quality(request: HttpRequest, media_type: MediaType) -> float:
    """The quality the Accept header gives ``media_type``: its most specific match's, 0 when none."""
    try:
        accepted = next((a for a in request.accepted_types_by_precedence if media_type.match(a)), None)
    except (ValueError, TypeError):
        return 0.0
    return float(accepted.quality) if accepted is not None else 0.0


def json_over_html(request: HttpRequest) -> int:
    """How the Accept header ranks JSON against HTML: 1 (JSON higher), -1 (HTML higher) or 0."""
    accept = request.META.get("HTTP_ACCEPT")
    if accept is not None and len(accept) > RANKINGS_KEPT_UP_TO:
        return _json_over_html(request)
    return _ranking(accept)


RANKINGS_KEPT_UP_TO = 1024  # characters of an Accept header whose ranking is kept


@functools.lru_cache(maxsize=256)
def _ranking(accept: str | None) -> int:
    """The ranking of one Accept header (None: none sent), kept: browsers and scripts send a few."""
    probe = HttpRequest()
    if accept is not None:
        probe.META["HTTP_ACCEPT"] = accept
    return _json_over_html(probe)


def _json_over_html(request: HttpRequest) -> int:
    json_quality, html_quality = _quality(request, JSON_TYPE), _quality(request, HTML_TYPE)
    return (json_quality > html_quality) - (html_quality > json_quality)


def media_type(request: HttpRequest) -> str:
    """The request's media type without parameters (``; boundary=…``, ``; charset=…``)."""
    return (request.content_type or "").split(";", 1)[0].strip().lower()


def from_browser_form(request: HttpRequest, ranking: int | None = None) -> bool:
    """Whether the request is a browser's form; ``ranking`` is ``json_over_html(request)``."""
    if ranking is None:
        ranking = json_over_html(request)
    if ranking > 0:
        return False  # a script asked for JSON
    if media_type(request) in FORM_CONTENT_TYPES:
        return True
    bodiless_get = request.method == "GET" and content_length(request) <= 0
    return bodiless_get and ranking < 0


def page_host(request: HttpRequest) -> str | None:
    """The host of the page that submitted the request: ``Origin``, else ``Referer``."""
    for header in ("Origin", "Referer"):
        value = request.headers.get(header, "")
        if value and value != "null":
            return url_host(value)
    return None


def redirect_allowed(request: HttpRequest, url: str, line: CampaignLine | None) -> bool:
    """Whether a browser sent to ``url`` lands on the submitting page's host or an allowed one."""
    host = url_host(url)
    if not host:
        return False
    if host == page_host(request):
        return True
    return is_allowed(host, [*(line.redirect_host_list if line is not None else []), *conf.REDIRECT_HOSTS])


def choose(request: HttpRequest, params: OutgoingParams, line: CampaignLine | None) -> Answer:
    """The contract's order: redirect, JSONP, JSON, HTML."""
    ranking = json_over_html(request)
    form = from_browser_form(request, ranking)
    if params.revmsghtml and not params.has_callback and form:
        if redirect_allowed(request, params.revmsghtml, line):
            return Answer.REDIRECT
        logger.warning("refused to redirect to %s (host not allowed)", urlsplit(params.revmsghtml).hostname)
        return Answer.HTML
    if params.has_callback:
        return Answer.JSONP if params.callback_valid else Answer.JSON
    if ranking < 0:  # the Accept header ranks HTML above JSON
        return Answer.HTML
    return Answer.JSON
