"""Publishing events and delivering them, with Django's Tasks framework.

On the request path, ``publish`` costs no round trip of its own, and one task (one
INSERT with the database backend) only when an endpoint wants the event: which
endpoints want which events of which lines is kept by every process with the lines
(``clicktocall.lines``), read again whenever an endpoint changes. The events of one
``/outgoing`` request (``batched``) share one task. The task is enqueued once the
transaction commits; nothing is sent in the request.

A worker then runs ``fan_out``: one ``WebhookDelivery`` per endpoint that wants the
event, each delivered by its own ``deliver`` task:

1. a delivery that already succeeded or failed for good is left alone, so a task run
   twice sends nothing twice (at least once, never more than the retries);
2. at most ``max_concurrent`` deliveries of one endpoint are sending at once; another
   waits its turn;
3. one POST, signed, within the endpoint's timeout, to a public address;
4. a 2xx answer is a success. A network error, a timeout, a 5xx or a 429 is retried
   with the same ``webhook-id``, after ``CLICKTOCALL_WEBHOOK_BACKOFF`` seconds and
   twice as long each time (at most ``MAX_DELAY``), for ``CLICKTOCALL_WEBHOOK_RETRY_PERIOD``
   (a day); any other answer (4xx, a redirect) or a refused address is final;
5. an endpoint that has failed for the whole retry period is paused (staff see it in
   the admin, resume it and resend what failed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial, wraps
from typing import Any

import urllib3
from django.db import transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone

from ..conf import conf
from ..models import CallAttempt
from . import payloads, signing, transport
from .models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger("clicktocall.events")

MAX_DELAY = 4 * 3600.0  # seconds; the longest wait between two tries
MAX_TRIES = 30
STALE_CLAIM = 120  # seconds after which a "sending" claim is a dead worker's (the longest timeout is 60 s)
BUSY_WAIT = 2.0  # seconds a delivery waits for a free slot of its endpoint
NO_WORKER = (
    "waiting for a task worker: the task backend runs tasks at once, which would send webhooks during "
    "visitors' requests (use the database task backend and manage.py db_worker, then resend)"
)
State = WebhookDelivery.State


# Publishing (the request path)


def read_subscriptions() -> list[tuple[list[str], list[int]]]:
    """``(events, line ids)`` of every endpoint receiving events, from the database; no line ids: every line."""
    found: dict[int, tuple[list[str], list[int]]] = {}
    receiving = WebhookEndpoint.objects.filter(is_active=True, paused_at__isnull=True)
    for pk, events, line_id in receiving.values_list("pk", "events", "lines"):
        entry = found.setdefault(pk, (list(events or []), []))
        if line_id is not None:
            entry[1].append(line_id)
    return list(found.values())


def subscriptions() -> list[tuple[list[str], list[int]]]:
    """The subscriptions every process keeps with the lines (``clicktocall.lines``): current on every request."""
    from .. import lines

    return lines.kept().subscriptions


def _subscriptions_of(attempt: CallAttempt) -> list[tuple[list[str], list[int]]]:
    """The subscriptions kept with the attempt's line when ``/outgoing`` found it (no round trip), else current ones."""
    if CallAttempt.line.is_cached(attempt):
        kept = getattr(attempt.line, "webhook_subscriptions", None)
        if kept is not None:
            return kept
    return subscriptions()


def wanted(event: str, line_id: int, subscribed: list[tuple[list[str], list[int]]] | None = None) -> bool:
    subscribed = subscriptions() if subscribed is None else subscribed
    return any(event in events and (not lines or line_id in lines) for events, lines in subscribed)


def forget_endpoints(**kwargs: object) -> None:
    """Announce a change of the endpoints that ``QuerySet.update()`` made: every process reads them again."""
    from .. import lines

    lines.changed()


@dataclass
class _Batch:
    """The events of one request, and the subscriptions, read once for all of them."""

    items: list[list[Any]] = field(default_factory=list)
    subscribed: list[tuple[list[str], list[int]]] | None = None


_batch: ContextVar[_Batch | None] = ContextVar("clicktocall_events_batch", default=None)


def publish(event: str, attempt: CallAttempt, **extra: Any) -> None:
    """Enqueue ``event`` about ``attempt`` if an endpoint wants it. Never raises: the call comes first."""
    if getattr(attempt, "pk", None) is None:
        return
    try:
        pending = _batch.get()
        if pending is not None and pending.subscribed is None:
            pending.subscribed = _subscriptions_of(attempt)
        subscribed = pending.subscribed if pending is not None else _subscriptions_of(attempt)
        if not wanted(event, attempt.line_id, subscribed):
            return
        occurred_at = timezone.now().isoformat().replace("+00:00", "Z")
        item = [event, attempt.pk, occurred_at, extra]
        if pending is not None:
            pending.items.append(item)
        else:
            transaction.on_commit(partial(_enqueue, [item]))
    except Exception:
        logger.exception("attempt %s: could not publish %s", attempt.pk, event)


def batched[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """Events published while ``function`` runs are queued together, as one task, when it returns."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if _batch.get() is not None:
            return function(*args, **kwargs)
        token = _batch.set(_Batch())
        try:
            return function(*args, **kwargs)
        finally:
            batch = _batch.get()
            items = batch.items if batch is not None else []
            _batch.reset(token)
            if items:
                try:
                    transaction.on_commit(partial(_enqueue, items))
                except Exception:
                    logger.exception("could not queue %s events", len(items))

    return wrapper


def _enqueue(items: list[list[Any]]) -> None:
    try:
        fan_out.enqueue(items)
    except Exception:
        logger.exception("attempts %s: could not queue %s", sorted({i[1] for i in items}), [i[0] for i in items])


# The worker


@task
def fan_out(items: list[list[Any]]) -> int:
    """Record one delivery per event and endpoint that wants it, and queue each; returns how many.

    ``items``: ``[event, attempt id, when it happened, extra data]`` for each event, in order.
    """
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True, paused_at__isnull=True).prefetch_related("lines"))
    attempts = CallAttempt.objects.select_related("line").in_bulk({item[1] for item in items})
    deliveries = []
    for event, attempt_id, occurred_at, extra in items:
        attempt = attempts.get(attempt_id)
        if attempt is None:
            continue
        wanting = [e for e in endpoints if event in e.events and _covers(e, attempt.line_id)]
        if not wanting:
            continue
        data = payloads.event_data(event, attempt, extra or {})
        deliveries += [
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                event=event,
                attempt=attempt,
                body=payloads.body(event, occurred_at, payloads.for_endpoint(data, endpoint)),
                retry_until=retry_until(),
            )
            for endpoint in wanting
        ]
    waiting = [delivery.pk for delivery in deliveries if not _queue(delivery.pk)]
    if waiting:
        WebhookDelivery.objects.filter(pk__in=waiting).update(last_error=NO_WORKER[:500])
        logger.warning("%s webhook deliveries wait: %s", len(waiting), NO_WORKER)
    return len(deliveries)


def retry_until() -> datetime:
    """Until when a delivery that starts now is retried."""
    return timezone.now() + timedelta(seconds=conf.WEBHOOK_RETRY_PERIOD)


def _covers(endpoint: WebhookEndpoint, line_id: int) -> bool:
    lines = [line.pk for line in endpoint.lines.all()]
    return not lines or line_id in lines


def backoff(tries: int) -> float:
    """Seconds to wait after the ``tries``-th failed try (1, 2, …): base, 2×base, 4×base…, at most ``MAX_DELAY``."""
    return min(MAX_DELAY, conf.WEBHOOK_BACKOFF * (2 ** max(0, tries - 1)))


def _queue(delivery_id: int, delay: float = 0, *, inline: bool = False) -> bool:
    """Queue a delivery's next try in ``delay`` seconds; False when the task backend cannot.

    A backend that runs tasks at once (the immediate one) would send the webhook in the
    request that published the event: it is used only when ``inline`` (staff resending
    from the admin) and without delay.
    """
    if not deliver.get_backend().supports_defer:
        if delay or not inline:
            return False
        deliver.enqueue(delivery_id)
        return True
    runner = deliver.using(run_after=timezone.now() + timedelta(seconds=delay)) if delay else deliver
    runner.enqueue(delivery_id)
    return True


def _claim(delivery_id: int, cap: bool = True) -> WebhookDelivery | None:
    """Take a pending delivery for one try, within its endpoint's concurrency cap.

    Returns the delivery, or None when it is not pending (done, or another run has it);
    raises ``Busy`` when the endpoint already has ``max_concurrent`` deliveries sending.
    Without ``cap`` (a task backend that runs tasks at once, so cannot make one wait)
    the cap is not applied.
    """
    # Rows are locked in the order a deletion of the endpoint locks them (its deliveries,
    # then the endpoint), so that the two never wait for each other.
    now = timezone.now()
    with transaction.atomic():
        claimed = WebhookDelivery.objects.filter(pk=delivery_id, state=State.PENDING).update(
            state=State.SENDING, last_tried_at=now, tries=F("tries") + 1, next_try_at=None
        )
        if not claimed:
            return None
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        # A worker that died while sending leaves its claim behind: it lapses.
        stale = now - timedelta(seconds=STALE_CLAIM)
        sending = WebhookDelivery.objects.filter(endpoint=endpoint, state=State.SENDING, last_tried_at__gt=stale)
        if cap and sending.exclude(pk=delivery_id).count() >= endpoint.max_concurrent:
            raise Busy  # rolls the claim back
    delivery.endpoint = endpoint
    return delivery


class Busy(Exception):
    """The endpoint already has as many deliveries sending as it allows."""


@task
def deliver(delivery_id: int) -> str:
    """One try of one delivery; returns what happened (for the task's result)."""
    try:
        delivery = _claim(delivery_id, cap=deliver.get_backend().supports_defer)
    except Busy:
        _queue(delivery_id, BUSY_WAIT)
        return "waiting"
    if delivery is None:
        return "skipped"
    endpoint = delivery.endpoint
    if not endpoint.receiving:
        _finish(delivery, State.FAILED, error="the endpoint is paused or inactive")
        return "failed"
    signature = signing.headers(endpoint.secret, delivery.message_id, delivery.body)
    headers = {"Content-Type": "application/json", **signature}
    try:
        answer = transport.post(endpoint.url, delivery.body.encode(), headers, timeout=endpoint.timeout)
    except transport.Refused as exc:
        _failed(delivery, str(exc), final=True)
        return "refused"
    except (ConnectionError, OSError, urllib3.exceptions.HTTPError) as exc:
        _failed(delivery, f"{exc.__class__.__name__}: {exc}", final=False)
        return "retrying" if delivery.state == State.PENDING else "failed"
    except Exception as exc:  # a bug must not leave the delivery "sending" for ever
        logger.exception("delivery %s: unexpected error", delivery.pk)
        _failed(delivery, f"{exc.__class__.__name__}: {exc}", final=False)
        return "retrying" if delivery.state == State.PENDING else "failed"
    if 200 <= answer.status < 300:
        _finish(delivery, State.SUCCEEDED, status=answer.status)
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return "delivered"
    final = not (answer.status == 429 or answer.status >= 500)
    _failed(delivery, f"HTTP {answer.status}: {answer.excerpt}", final=final, status=answer.status)
    return "failed" if final else ("retrying" if delivery.state == State.PENDING else "failed")


def _finish(delivery: WebhookDelivery, state: str, *, status: int | None = None, error: str = "") -> None:
    now = timezone.now()
    delivery.state, delivery.response_status, delivery.last_error = state, status, error[:500]
    delivery.delivered_at = now if state == State.SUCCEEDED else None
    delivery.next_try_at = None
    delivery.save(update_fields=["state", "response_status", "last_error", "delivered_at", "next_try_at"])


def _failed(delivery: WebhookDelivery, error: str, *, final: bool, status: int | None = None) -> None:
    """Record a failed try; queue the next one while the retry period lasts."""
    now = timezone.now()
    delay = backoff(delivery.tries)
    give_up_at = delivery.retry_until or delivery.created_at + timedelta(seconds=conf.WEBHOOK_RETRY_PERIOD)
    retry = not final and delivery.tries < MAX_TRIES and now + timedelta(seconds=delay) <= give_up_at
    if retry:
        delivery.state, delivery.response_status, delivery.last_error = State.PENDING, status, error[:500]
        delivery.next_try_at = now + timedelta(seconds=delay)
        delivery.save(update_fields=["state", "response_status", "last_error", "next_try_at"])
        logger.warning(
            "delivery %s (%s) try %s failed, retrying in %gs: %s",
            delivery.pk,
            delivery.message_id,
            delivery.tries,
            delay,
            error[:200],
        )
        try:
            queued = _queue(delivery.pk, delay)
        except Exception as exc:
            queued = False
            error = f"{error}; could not queue the retry: {exc}"
        if not queued:
            _finish(delivery, State.FAILED, status=status, error=f"{error}; no retry: the task backend cannot wait")
    else:
        _finish(delivery, State.FAILED, status=status, error=error)
        logger.warning("delivery %s (%s) failed: %s", delivery.pk, delivery.message_id, error[:200])
    _note_failure(delivery.endpoint, now)


def _note_failure(endpoint: WebhookEndpoint, now) -> None:
    """Remember since when the endpoint fails; pause it once that is the whole retry period."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    limit = now - timedelta(seconds=conf.WEBHOOK_RETRY_PERIOD)
    paused = WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__lte=limit, paused_at__isnull=True).update(
        paused_at=now
    )
    if paused:
        forget_endpoints()
        logger.error("webhook endpoint %s paused: failing since %s", endpoint.pk, endpoint.failing_since or now)


# Staff


def resend(delivery: WebhookDelivery) -> bool:
    """Try a delivery again (same ``webhook-id``); False while a worker is sending it."""
    stale = timezone.now() - timedelta(seconds=STALE_CLAIM)
    updated = (
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .exclude(state=State.SENDING, last_tried_at__gt=stale)
        .update(state=State.PENDING, next_try_at=None, retry_until=retry_until())
    )
    if updated:
        transaction.on_commit(partial(_queue, delivery.pk, inline=True))
    return bool(updated)


def resume(endpoint: WebhookEndpoint) -> None:
    """Take a paused endpoint back into service."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(paused_at=None, failing_since=None)
    forget_endpoints()
