"""The campaign lines as ``/outgoing`` reads them: kept in each process, current on every request.

Every process keeps all campaign lines, with their active targets, the active
blocked networks and the webhook subscriptions in memory, together with the version
of what it read. The version lives in the shared cache (``CLICKTOCALL_CACHE``); saving
or deleting a line, a target, a blocklist entry or a webhook endpoint replaces it (at
once, and again once the change is committed), so the next request of every process
that shares the cache sees a new version and reads them again. A request thus costs
no query for its line, the network blocklist or the subscriptions: with the limits in
Redis the version is checked by the request's limits script (``find``'s
``checked_later``), else read once. A staff edit takes effect on the next request
everywhere. What is kept is read again at least every
``CLICKTOCALL_BLOCKLIST_CACHE_SECONDS`` whatever the version says.

Changes made with ``QuerySet.update()`` send no signal: call ``changed()`` after them.
With a cache each process holds alone (local memory, the development default), an edit
reaches only the process that made it; use a shared cache whenever several processes
serve requests.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch
from django.db.models.signals import m2m_changed, post_delete, post_save

from . import limits
from .conf import conf
from .events.models import WebhookEndpoint
from .models import BlockEntry, CampaignLine, Target

VERSION_KEY = "clicktocall:lines:version"
logger = logging.getLogger("clicktocall.lines")


@dataclass(frozen=True)
class Kept:
    version: object  # as the cache stores it
    read_at: float  # time.monotonic()
    lines: dict[str, CampaignLine]
    networks: list[tuple[int, str, float | None]]
    subscriptions: list[tuple[list[str], list[int]]]


_lock = threading.Lock()
_kept: Kept | None = None


def _version() -> object:
    """The current version of the lines, agreed on by every process sharing the cache."""
    version = limits.cache_get_raw(VERSION_KEY)  # compared, never decoded
    if version is None:  # first use, or the cache lost it: every process reads the lines again
        limits.cache().add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = limits.cache_get_raw(VERSION_KEY)
    return version


def _read(version: object) -> Kept:
    from .blocklist import read_networks
    from .events.delivery import read_subscriptions

    targets = Target.objects.filter(is_active=True).order_by("position", "pk")
    queryset = CampaignLine.objects.prefetch_related(Prefetch("targets", queryset=targets, to_attr="active_targets"))
    lines = {line.phone_number: line for line in queryset}
    return Kept(version, time.monotonic(), lines, read_networks(), read_subscriptions())


def kept() -> Kept:
    """What this process keeps, read again when its version changed (or it is too old).

    When the cache cannot be reached, the lines are read from the database for this
    request alone: the request is found, recorded and refused by the limits, which need
    the cache too.
    """
    global _kept
    try:
        version = _version()  # read before the rest: a change committed meanwhile is seen next time
    except Exception as exc:
        logger.warning("the version of the kept lines could not be read: %s", exc.__class__.__name__)
        return _read("")
    current = _kept
    if current is None or current.version != version or _too_old(current):
        with _lock:
            current = _kept
            if current is None or current.version != version or _too_old(current):
                current = _kept = _read(version)
    return current


def _too_old(current: Kept) -> bool:
    return time.monotonic() - current.read_at > conf.BLOCKLIST_CACHE_SECONDS


def find(e164: str, *, checked_later: bool = False) -> CampaignLine | None:
    """The line whose number is ``e164`` (a copy of its own for the caller), or None.

    The copy carries the blocked networks and the webhook subscriptions kept with it
    (``blocked_networks``, ``webhook_subscriptions``), so the request checks its address
    and publishes its events without reading the version again.

    With ``checked_later`` (the limits check a version in their own round trip:
    ``limits.checks_versions()``), a line this process keeps is found without reading the
    version: the copy's ``kept_version`` (a ``limits.Version``) goes with the request's limits,
    which raise ``limits.StaleVersion``, having taken nothing, when the lines changed; the
    request then starts again (``find`` without ``checked_later``). A number this process
    does not know is always checked against the current version.
    """
    if not e164:
        return None
    current = _kept
    unchecked = checked_later and current is not None and not _too_old(current) and e164 in current.lines
    if not unchecked:
        current = kept()
    line = current.lines.get(e164)
    if line is None:
        return None
    line = _copy(line)
    line.blocked_networks = current.networks
    line.webhook_subscriptions = current.subscriptions
    line.kept_version = limits.Version(VERSION_KEY, current.version) if unchecked else None
    return line


def _copy(line: CampaignLine) -> CampaignLine:
    """``copy.copy(line)`` without the pickling protocol's detour: the model's own state, copied."""
    copied = object.__new__(type(line))
    copied.__dict__.update(line.__getstate__())
    return copied


def check(line: CampaignLine) -> None:
    """Raise ``limits.StaleVersion`` when the lines changed since ``line`` was found unchecked."""
    version = getattr(line, "kept_version", None)
    if version is not None and _version() != version.value:
        raise limits.StaleVersion(VERSION_KEY)


def _new_version() -> None:
    try:
        limits.cache().set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # the edit stands; other processes read it within BLOCKLIST_CACHE_SECONDS
        logger.exception("could not announce a change of the lines")


def changed(**kwargs: object) -> None:
    """Announce that the lines changed: at once, and again when the transaction commits.

    The first announcement makes this process read its own change; a process that reads
    the lines before the commit keeps the old ones under that version, so the second
    announcement makes every process read them again once the change is visible.
    """
    _new_version()
    transaction.on_commit(_new_version)


def forget() -> None:
    """Drop this process's lines (tests)."""
    global _kept
    _kept = None


for _model in (CampaignLine, Target, BlockEntry, WebhookEndpoint):
    post_save.connect(changed, sender=_model, dispatch_uid=f"clicktocall.lines.saved.{_model.__name__}")
    post_delete.connect(changed, sender=_model, dispatch_uid=f"clicktocall.lines.deleted.{_model.__name__}")
m2m_changed.connect(changed, sender=WebhookEndpoint.lines.through, dispatch_uid="clicktocall.lines.endpoint_lines")
