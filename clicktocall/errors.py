"""Error views for the host project's URLconf, so that ``/outgoing`` answers JSON even there.

Django answers some bad requests before any view runs: a ``Host`` header that is not in
``ALLOWED_HOSTS`` (``DisallowedHost``), other suspicious requests. Its own 400 page is
HTML; a page that embedded ``/outgoing`` reads ``data.message`` from JSON. Point the
root URLconf's ``handler400`` here::

    handler400 = "clicktocall.errors.bad_request"
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults

from .calls import Outcome


def is_outgoing(request: HttpRequest) -> bool:
    """Whether the request is for the ``/outgoing`` route."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.view_name == "clicktocall:outgoing"


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The contract's JSON error body on ``/outgoing``, Django's page elsewhere."""
    if is_outgoing(request):
        return JsonResponse(Outcome.ERROR.payload, status=400)
    return defaults.bad_request(request, exception)
