"""The blocklist: numbers that may not be called, and addresses that may not ask."""

from __future__ import annotations

import ipaddress
import time
from datetime import datetime

from django.db import connections, models, router
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .clients import client_network
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


# The active network entries are read on every request: every process keeps them with
# the campaign lines (``lines``), read again whenever an entry is saved or deleted.
# Phone entries are looked up per request (``phone_entry()``).


def active(queryset: models.QuerySet | None = None, now: datetime | None = None) -> models.QuerySet:
    """Entries that have not expired."""
    queryset = BlockEntry.objects.all() if queryset is None else queryset
    now = now or timezone.now()
    return queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


BLOCKED_DETAIL = "blocklist: the number is blocked"


def mark_if_blocked(attempt: models.Model, outcome: str) -> None:
    """Set an unsaved attempt's outcome to ``outcome``, or ``blocked`` when its number is on
    the active blocklist: decided by the INSERT itself, with no query of its own (the
    caller records the detail of a blocked attempt, a rare case)."""
    ops = connections[router.db_for_write(type(attempt))].ops
    sql = (
        f"CASE WHEN EXISTS (SELECT 1 FROM {ops.quote_name(BlockEntry._meta.db_table)} WHERE kind = %s AND value = %s "
        "AND (expires_at IS NULL OR expires_at > %s)) THEN %s ELSE %s END"
    )
    now = ops.adapt_datetimefield_value(timezone.now())
    params = [BlockEntry.Kind.PHONE.value, attempt.phone, now, "blocked", outcome]
    attempt.outcome = RawSQL(sql, params, output_field=models.CharField())


def record_blocked(attempt: models.Model) -> None:
    """Record why an attempt the INSERT found blocked was refused, and count a hit on its entry."""
    attempt.error_detail = BLOCKED_DETAIL
    type(attempt).objects.filter(pk=attempt.pk).update(error_detail=BLOCKED_DETAIL)
    record_hit(phone_entry(attempt.phone))


def normalize_network(value: str) -> str:
    """``203.0.113.7`` or ``203.0.113.0/24`` in canonical form; raises ``ValueError``."""
    return str(ipaddress.ip_network(value.strip(), strict=False))


def read_networks() -> list[tuple[int, str, float | None]]:
    """The active network entries: (id, network, expiry as a timestamp or None)."""
    entries = []
    for pk, value, expires_at in active(BlockEntry.objects.filter(kind=BlockEntry.Kind.NETWORK)).values_list(
        "pk", "value", "expires_at"
    ):
        try:
            normalize_network(value)
        except ValueError:
            continue
        entries.append((pk, value, expires_at.timestamp() if expires_at else None))
    return entries


MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def _unmapped(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An entry written as IPv4-mapped IPv6 (``::ffff:203.0.113.0/120``) as the IPv4 network it names."""
    if network.version == 6 and network.subnet_of(MAPPED):
        return ipaddress.ip_network(f"{network.network_address.ipv4_mapped}/{network.prefixlen - 96}")
    return network


def network_entry(ip: str | None, networks: list[tuple[int, str, float | None]] | None = None) -> int | None:
    """The id of an active network entry that covers the client ``ip``, or None.

    The client is its network (see ``clients.client_network``): an entry for one IPv6
    address blocks that address's whole /64, as a client may use any address in it.
    ``networks``: the entries kept with the request's line (``lines.find``), else those
    this process keeps.
    """
    client = client_network(ip)
    if client is None:
        return None
    now = time.time()
    if networks is None:
        from . import lines

        networks = lines.kept().networks
    for pk, value, expires in networks:
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
