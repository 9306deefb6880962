"""The campaign lines as ``/outgoing`` reads them: kept in each process, current on every request.

Every process keeps all campaign lines, with their active targets, in memory, together
with the version of the lines it read. The version lives in the shared cache
(``CLICKTOCALL_CACHE``); saving or deleting a line or a target replaces it once the
change is committed, so the next request of every process that shares the cache sees
a new version and reads the lines again. A request thus costs no query to find its line,
and a staff edit takes effect on the next request everywhere.

Changes made with ``QuerySet.update()`` send no signal: call ``changed()`` after them.
With a cache each process holds alone (local memory, the development default), an edit
reaches only the process that made it; use a shared cache whenever several processes
serve requests.
"""

from __future__ import annotations

import copy
import threading
import uuid

from django.db import transaction
from django.db.models import Prefetch
from django.db.models.signals import post_delete, post_save

from . import limits
from .models import CampaignLine, Target

VERSION_KEY = "clicktocall:lines:version"

_lock = threading.Lock()
_kept: tuple[str, dict[str, CampaignLine]] | None = None


def _version() -> str:
    """The current version of the lines, agreed on by every process sharing the cache."""
    store = limits.cache()
    version = store.get(VERSION_KEY)
    if version is None:  # first use, or the cache lost it: every process reads the lines again
        store.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = store.get(VERSION_KEY)
    return str(version)


def _read() -> dict[str, CampaignLine]:
    targets = Target.objects.filter(is_active=True).order_by("position", "pk")
    queryset = CampaignLine.objects.prefetch_related(Prefetch("targets", queryset=targets, to_attr="active_targets"))
    return {line.phone_number: line for line in queryset}


def find(e164: str) -> CampaignLine | None:
    """The line whose number is ``e164`` (a copy of its own for the caller), or None."""
    global _kept
    if not e164:
        return None
    version = _version()  # read before the lines: an edit committed meanwhile is seen next time
    kept = _kept
    if kept is None or kept[0] != version:
        with _lock:
            kept = _kept
            if kept is None or kept[0] != version:
                kept = _kept = (version, _read())
    line = kept[1].get(e164)
    return copy.copy(line) if line is not None else None


def _new_version() -> None:
    limits.cache().set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


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


for _model in (CampaignLine, Target):
    post_save.connect(changed, sender=_model, dispatch_uid=f"clicktocall.lines.saved.{_model.__name__}")
    post_delete.connect(changed, sender=_model, dispatch_uid=f"clicktocall.lines.deleted.{_model.__name__}")
