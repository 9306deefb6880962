"""The blocklist: numbers that may not be called, and addresses that may not ask."""

from __future__ import annotations

import csv
import io
import ipaddress
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections, models, router, transaction
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from . import phone
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
    table = ops.quote_name(BlockEntry._meta.db_table)
    sql = _marks.get(table)
    if sql is None:
        sql = _marks[table] = (
            f"CASE WHEN EXISTS (SELECT 1 FROM {table} WHERE kind = %s AND value = %s "
            "AND (expires_at IS NULL OR expires_at > %s)) THEN %s ELSE %s END"
        )
    now = ops.adapt_datetimefield_value(timezone.now())
    params = [BlockEntry.Kind.PHONE.value, attempt.phone, now, "blocked", outcome]
    attempt.outcome = RawSQL(sql, params, output_field=_OUTCOME_FIELD)


_marks: dict[str, str] = {}
_OUTCOME_FIELD = models.CharField()  # the output of the outcome's CASE: text


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


@dataclass
class ImportResult:
    """What an import of numbers did: counts, and the rows that held no valid number."""

    added: int = 0
    updated: int = 0
    invalid: int = 0
    invalid_rows: list[tuple[int, str]] = field(default_factory=list)


IMPORT_BATCH = 1000
MAX_INVALID_SHOWN = 20


def read_numbers(text: str) -> Iterator[tuple[int, str]]:
    """``(row number, first cell)`` of each non-empty row of CSV (or one-number-a-line) text.

    A first row whose first cell holds no digit is a header and skipped. Raises
    ``csv.Error`` for text the CSV reader cannot read (e.g. a field over its size limit).
    """
    text = text.replace("\x00", "")
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        cell = (row[0] if row else "").strip()
        if not cell or (number == 1 and not any(ch.isdigit() for ch in cell)):
            continue
        yield number, cell


def import_numbers(
    rows: Iterable[tuple[int, str]],
    *,
    reason: str = BlockEntry.Reason.OPT_OUT,
    note: str = "",
    expires_at: datetime | None = None,
) -> ImportResult:
    """Put the numbers of ``rows`` on the blocklist (any format; stored in E.164).

    A number already listed is updated to this reason and expiry, except that a person's
    own opt-out keeps its reason and never expires. Invalid rows are counted and listed.
    """
    result = ImportResult()
    numbers: dict[str, int] = {}
    for row, cell in rows:
        try:
            numbers.setdefault(phone.normalize(cell), row)
        except phone.InvalidNumber:
            result.invalid += 1
            if len(result.invalid_rows) < MAX_INVALID_SHOWN:
                result.invalid_rows.append((row, cell[:64]))
    values = list(numbers)
    for start in range(0, len(values), IMPORT_BATCH):
        batch = values[start : start + IMPORT_BATCH]
        with transaction.atomic():
            listed = BlockEntry.objects.filter(kind=BlockEntry.Kind.PHONE, value__in=batch)
            existing = set(listed.values_list("value", flat=True))
            listed.exclude(reason=BlockEntry.Reason.OPT_OUT).update(reason=reason, expires_at=expires_at)
            BlockEntry.objects.bulk_create(
                [
                    BlockEntry(kind=BlockEntry.Kind.PHONE, value=value, reason=reason, note=note, expires_at=expires_at)
                    for value in batch
                    if value not in existing
                ],
                ignore_conflicts=True,
            )
        result.updated += len(existing)
        result.added += len(batch) - len(existing)
    return result
