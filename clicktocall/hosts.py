"""Host names as browsers resolve them, and which of them ``revmsghtml`` may redirect to.

A browser percent-decodes a URL's host, maps it with UTS #46 *non-transitional*
processing (``ß`` and ``ς`` stay themselves, unlike IDNA 2003's ``ss`` and ``σ``) and
sends the ASCII (``xn--``) form to DNS. Every host is compared in that form here: the
URL's, the submitting page's, and the allowed ones (Django's ``ALLOWED_HOSTS`` syntax,
``.example.org`` for a domain and its subdomains). A host that cannot be put in that
form is never allowed.

A public suffix (``org``, ``co.uk``, ``github.io``: anything where strangers register
names, after the list shipped with :mod:`publicsuffixlist`, which is never downloaded
at run time) is refused as an allowed host; one written before that rule is ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

import idna
from django.http.request import validate_host
from publicsuffixlist import PublicSuffixList

ASCII_HOST_RE = re.compile(r"^[a-z0-9_.-]+$")
# An allowed host as written in settings or on a line, once in ASCII form.
ALLOWED_RE = re.compile(r"^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


@functools.cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()


def lowered(host: str) -> str:
    """``host`` with ASCII letters lowercased. Other letters are left to UTS #46's mapping:
    Python lowercases a final ``Σ`` to ``ς``, where a browser makes it ``σ``."""
    return host.lower() if host.isascii() else re.sub(r"[A-Z]+", lambda m: m.group().lower(), host)


def raw_host(url: str) -> str:
    """The host of ``url`` as written (not lowercased), or '' when it has none or cannot be split."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return ""
    hostinfo = parts.netloc.rpartition("@")[2]
    if hostinfo.startswith("["):
        return hostinfo.partition("]")[0] + "]"
    return hostinfo.partition(":")[0]


def ascii_host(host: str) -> str | None:
    """``host`` in the form a browser looks it up, without a final dot; None when a browser
    would not go there or it cannot be told which host it is.

    An IPv6 literal keeps its brackets and is only lowercased.
    """
    try:
        host = unquote(host, errors="strict")
    except UnicodeDecodeError:
        return None
    if host.startswith("[") and host.endswith("]"):
        return host.lower()
    if host.isascii() and "xn--" not in host.lower():
        host = host.lower()
    else:
        try:
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    host = host.removesuffix(".")
    return host if host and ASCII_HOST_RE.match(host) else None


def url_host(url: str) -> str | None:
    """The host a browser sent to ``url`` would look up (see :func:`ascii_host`)."""
    host = raw_host(url)
    return ascii_host(host) if host else None


def allowed_host_problem(host: str) -> str | None:
    """Why ``host`` cannot be an allowed redirect host, or None."""
    if host == "*":
        return "'*' is not allowed: it would make /outgoing an open redirect"
    ascii_form = ascii_host(host.removeprefix(".")) if host.removeprefix(".") else None
    if ascii_form is None or not ALLOWED_RE.match(ascii_form):
        return f"{host!r} is not a host name (e.g. www.example.org, or .example.org)"
    if _suffixes().is_public(ascii_form):
        return f"{host!r} is a public suffix, where anyone can register a name: list your own domain"
    return None


def allowed_patterns(hosts: Iterable[str]) -> list[str]:
    """The usable allowed hosts in ASCII form, ``.``-prefixed ones kept as domain patterns."""
    patterns = []
    for host in hosts:
        if allowed_host_problem(host) is None:
            domain = host.startswith(".")
            patterns.append(("." if domain else "") + ascii_host(host.removeprefix(".")))
    return patterns


def is_allowed(host: str | None, hosts: Iterable[str]) -> bool:
    """Whether ``host`` (as :func:`ascii_host` gives it) is one of ``hosts`` or under a ``.domain`` of them."""
    return bool(host) and validate_host(host, allowed_patterns(hosts))
