"""Django's common middleware, without its one deliberate 500.

Under ``DEBUG`` Django raises an error (a 500 page) for a POST, PUT, PATCH or DELETE to a
URL that lacks its trailing slash, where production answers a redirect. Here both
answer the redirect, and the development server logs Django's explanation instead.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils.http import escape_leading_slashes

logger = logging.getLogger("django.request")


class CommonMiddleware(DjangoCommonMiddleware):
    def get_full_path_with_slash(self, request: HttpRequest) -> str:
        try:
            return super().get_full_path_with_slash(request)
        except RuntimeError as exc:
            logger.warning("%s", exc)
            return escape_leading_slashes(request.get_full_path(force_append_slash=True))
