"""The POST of one webhook, to public addresses only.

The endpoint's host is resolved when the request is made, every address it resolves to
is checked, and the connection goes to the address that was checked (the TLS
certificate is still verified against the host name): a name that resolves to a public
address when checked and to an internal one when connecting (DNS rebinding) cannot
reach the internal one. Loopback, private, link-local (among them the cloud metadata
service, 169.254.169.254 and fd00:ec2::254), multicast, reserved and other non-global
addresses are refused, unless the host is listed in ``CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS``.
Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import urllib3
from django.conf import settings
from django.http.request import validate_host
from urllib3.util import Timeout, parse_url

from ..conf import conf

METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
RESPONSE_EXCERPT = 500  # bytes of the receiver's answer kept for the delivery log
USER_AGENT = "django-clicktocall-webhooks"


class Refused(Exception):
    """The endpoint may not be called (not a public address, or not an http(s) URL)."""


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint's URL, or None (https only, unless DEBUG or an allowed host)."""
    try:
        parts = parse_url(url)
    except ValueError:
        return "Enter a valid URL."
    if parts.scheme not in ("http", "https") or not parts.host:
        return "Enter an http(s) URL."
    if parts.auth:
        return "Leave user names and passwords out of the URL; the signature authenticates the requests."
    if parts.scheme != "https" and not settings.DEBUG and not host_allowed(parts.host):
        return "Use an https URL: events carry personal data."
    return None


def host_allowed(host: str) -> bool:
    return validate_host(host.strip("[]").lower(), conf.WEBHOOK_ALLOWED_HOSTS)


def is_public(address: str) -> bool:
    """Whether ``address`` is a global unicast address (an IPv4-mapped IPv6 one is judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_reserved and ip not in METADATA


def resolve(host: str, port: int) -> list[str]:
    """The addresses to connect to for ``host``; raises ``Refused`` if any of them is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConnectionError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise ConnectionError(f"cannot resolve {host}")
    if not host_allowed(host):
        for address in addresses:
            if not is_public(address):
                raise Refused(
                    f"{host} resolves to {address}, which is not a public address "
                    "(allow the host in CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS if it is yours)"
                )
    return addresses


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` to ``url``; the receiver's status and the start of its answer.

    Raises ``Refused`` for an address that may not be called, and ``ConnectionError``
    or ``urllib3.exceptions.HTTPError`` (timeouts included) when the request fails.
    """
    problem = url_problem(url)
    if problem:
        raise Refused(problem)
    parts = parse_url(url)
    host = parts.host.strip("[]")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port)
    for address in addresses[:-1]:
        try:
            return _post_to(address, port, parts, body, headers, timeout)
        except urllib3.exceptions.NewConnectionError:
            continue  # refused on this address (e.g. IPv6 without a route): the next one
    return _post_to(addresses[-1], port, parts, body, headers, timeout)


def _post_to(address: str, port: int, parts, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """The POST, to ``address``; TLS is verified against the URL's host name."""
    host = parts.host.strip("[]")
    options: dict = {"timeout": Timeout(total=timeout), "retries": False, "maxsize": 1, "block": False}
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", **options
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **options)
    with pool:
        response = pool.urlopen(
            "POST",
            parts.request_uri,
            body=body,
            headers={"Host": parts.netloc or host, "User-Agent": USER_AGENT, **headers},
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            excerpt = response.read(RESPONSE_EXCERPT, decode_content=False)
        finally:
            response.close()
    return Answer(response.status, excerpt.decode("utf-8", "replace"))
