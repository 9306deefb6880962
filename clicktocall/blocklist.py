"""The blocklist: numbers that may not be called, and addresses that may not ask."""

from __future__ import annotations

import ipaddress
import time
from datetime import datetime

from django.db import models
from django.db.models import Exists, F, Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from . import limits
from .clients import client_network
from .conf import conf
from .models import BlockEntry


def add_opt_out(e164: str, note: str = "") -> BlockEntry:
    """Put a number on the do-not-call list (the person pressed the opt-out key).

    The person's wish has no expiry. An entry staff made for the number before keeps its
    note, with this one added.
    """
    entry, created = BlockEntry.objects.get_or_create(
        kind=BlockEntry.Kind.PHONE,
        value=e164,
        defaults={"reason": BlockEntry.Reason.OPT_OUT, "note": note},
    )
    if not created:
        entry.reason = BlockEntry.Reason.OPT_OUT
        entry.expires_at = None
        if note and note not in entry.note:
            entry.note = f"{entry.note}\n{note}".strip()
        entry.save(update_fields=["reason", "expires_at", "note"])
    return entry


# The active network entries are read on every request, so they live in the cache and
# are dropped from it whenever an entry is saved or deleted. Phone entries are checked
# in the same query that finds the campaign line (see ``phone_blocked()``).
NETWORKS_KEY = "clicktocall:blocklist:networks"
_MISSING = object()


def active(queryset: models.QuerySet | None = None, now: datetime | None = None) -> models.QuerySet:
    """Entries that have not expired."""
    queryset = BlockEntry.objects.all() if queryset is None else queryset
    now = now or timezone.now()
    return queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def phone_blocked(e164: str) -> models.Expression:
    """An expression for annotating a query: whether ``e164`` is on the active blocklist."""
    if not e164:
        return models.Value(False, output_field=models.BooleanField())
    return Exists(active(BlockEntry.objects.filter(kind=BlockEntry.Kind.PHONE, value=e164)))


def normalize_network(value: str) -> str:
    """``203.0.113.7`` or ``203.0.113.0/24`` in canonical form; raises ``ValueError``."""
    return str(ipaddress.ip_network(value.strip(), strict=False))


def _networks() -> list[tuple[int, str, float | None]]:
    store = limits.cache()
    cached = store.get(NETWORKS_KEY, _MISSING)
    if cached is not _MISSING:
        return cached
    entries = []
    for pk, value, expires_at in active(BlockEntry.objects.filter(kind=BlockEntry.Kind.NETWORK)).values_list(
        "pk", "value", "expires_at"
    ):
        try:
            normalize_network(value)
        except ValueError:
            continue
        entries.append((pk, value, expires_at.timestamp() if expires_at else None))
    store.set(NETWORKS_KEY, entries, timeout=conf.BLOCKLIST_CACHE_SECONDS)
    return entries


MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def _unmapped(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An entry written as IPv4-mapped IPv6 (``::ffff:203.0.113.0/120``) as the IPv4 network it names."""
    if network.version == 6 and network.subnet_of(MAPPED):
        return ipaddress.ip_network(f"{network.network_address.ipv4_mapped}/{network.prefixlen - 96}")
    return network


def network_entry(ip: str | None) -> int | None:
    """The id of an active network entry that covers the client ``ip``, or None.

    The client is its network (see ``clients.client_network``): an entry for one IPv6
    address blocks that address's whole /64, as a client may use any address in it.
    """
    client = client_network(ip)
    if client is None:
        return None
    now = time.time()
    for pk, value, expires in _networks():
        if expires is not None and expires <= now:
            continue
        network = _unmapped(ipaddress.ip_network(value, strict=False))
        if network.version == client.version and network.overlaps(client):
            return pk
    return None


def phone_entry(e164: str) -> int | None:
    """The id of the active phone entry for ``e164``, or None."""
    entries = active(BlockEntry.objects.filter(kind=BlockEntry.Kind.PHONE, value=e164))
    return entries.values_list("pk", flat=True).first()


def record_hit(pk: int | None) -> None:
    """Count a refused request against an entry."""
    if pk is not None:
        BlockEntry.objects.filter(pk=pk).update(hit_count=F("hit_count") + 1, last_hit_at=timezone.now())


def forget_networks(**kwargs: object) -> None:
    """Drop the cached network entries, so the next request reads them afresh."""
    limits.cache().delete(NETWORKS_KEY)


post_save.connect(forget_networks, sender=BlockEntry, dispatch_uid="clicktocall.blocklist.saved")
post_delete.connect(forget_networks, sender=BlockEntry, dispatch_uid="clicktocall.blocklist.deleted")
