"""Keep a ``Content-Type`` header Django cannot parse from becoming a 500.

Django parses ``Content-Type`` while it builds the request object, before any middleware
or view runs. A header it cannot parse (longer than 10,000 characters, an RFC 2231
parameter with an unknown charset, a NUL byte in the charset, a charset naming a codec
that is not a text encoding such as ``rot13``, ``hex`` or ``uu_codec``) raises there, and
the server answers 500 with no chance for ``/outgoing`` to answer its contract.

``ContentTypeGuard`` (WSGI) and ``ASGIContentTypeGuard`` (ASGI) wrap the project's
application and replace such a header with ``INVALID_CONTENT_TYPE``, a media type no
parser accepts: ``/outgoing`` then answers its format error (and records the attempt
when the query string names a known line), and other routes see a body they ignore.
"""

from __future__ import annotations

import codecs
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from django.utils.http import parse_header_parameters

INVALID_CONTENT_TYPE = "application/x-invalid-content-type"


def parsable(value: str) -> bool:
    """Whether Django can build a request carrying this ``Content-Type`` value."""
    if not value:
        return True
    try:
        _, params = parse_header_parameters(value)
        if "charset" in params:
            # A bytes-to-bytes or text-to-text codec: Django takes it as the request's encoding,
            # then fails to decode the query string with it.
            return codecs.lookup(params["charset"])._is_text_encoding
    except LookupError:
        return True  # an unknown plain charset: Django ignores it
    except (ValueError, TypeError):
        return False
    return True


class ContentTypeGuard:
    """WSGI middleware: ``application = ContentTypeGuard(get_wsgi_application())``."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not parsable(environ.get("CONTENT_TYPE", "")):
            environ = {**environ, "CONTENT_TYPE": INVALID_CONTENT_TYPE}
        return self.app(environ, start_response)


class ASGIContentTypeGuard:
    """ASGI middleware: ``application = ASGIContentTypeGuard(get_asgi_application())``."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope.get("type") == "http":
            headers = list(scope.get("headers") or [])
            fixed = [
                (name, INVALID_CONTENT_TYPE.encode("latin-1"))
                if name.lower() == b"content-type" and not parsable(value.decode("latin-1"))
                else (name, value)
                for name, value in headers
            ]
            if fixed != headers:
                scope = {**scope, "headers": fixed}
        await self.app(scope, receive, send)
