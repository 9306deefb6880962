"""What can be trusted about the client of a request, and which network it counts as.

A client is its address for IPv4, and the network of ``CLICKTOCALL_IPV6_PREFIX`` bits
(a /64 by default) for IPv6: one subscriber's line or one local network gets a whole
/64, and picks any address in it at will. An IPv4-mapped IPv6 address
(``::ffff:198.51.100.9``) is the IPv4 address it carries.
"""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from .conf import conf

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str | None) -> Address | None:
    """``text`` as an address, an IPv4-mapped IPv6 address as its IPv4 address; None if it is none."""
    try:
        address = ipaddress.ip_address(text or "")
    except ValueError:
        return None
    return address.ipv4_mapped or address if address.version == 6 else address


def _ip(text: str) -> str | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    address = _address(text)
    return str(address) if address is not None else None


def client_network(ip: str | None) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network a client address counts as: the address itself (IPv4), its /64 (IPv6)."""
    address = _address(ip)
    if address is None:
        return None
    prefix = min(max(conf.IPV6_PREFIX, 0), 128) if address.version == 6 else 32
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def client_key(ip: str | None) -> str | None:
    """The address limits count ``ip`` under: itself (IPv4), the first address of its network (IPv6)."""
    address = _address(ip)
    if address is None:
        return None
    if address.version == 4:  # its own network
        return str(address)
    return str(client_network(str(address)).network_address)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, reading ``X-Forwarded-For`` only through trusted proxies.

    With ``CLICKTOCALL_TRUSTED_PROXIES = n``, the address is the one the n-th proxy from
    us saw: the n-th entry from the right of ``X-Forwarded-For`` + ``REMOTE_ADDR``.
    Entries a client adds itself stand further left and are never read.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = conf.TRUSTED_PROXIES
    if trusted <= 0:
        return _ip(remote)
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    chain = forwarded + [remote]
    index = len(chain) - 1 - trusted
    return _ip(chain[max(index, 0)])
