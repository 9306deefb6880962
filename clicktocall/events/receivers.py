"""The signal receivers that publish events: each costs nothing when no endpoint wants the event."""

from __future__ import annotations

from django.dispatch import receiver

from .. import signals
from ..models import CallAttempt
from .delivery import publish
from .models import Event


@receiver(signals.attempt_created, dispatch_uid="clicktocall.events.attempt_created")
def attempt_created(sender, attempt: CallAttempt, **kwargs) -> None:
    publish(Event.ATTEMPT_CREATED, attempt)


@receiver(signals.call_placed, dispatch_uid="clicktocall.events.call_placed")
def call_placed(sender, attempt: CallAttempt, **kwargs) -> None:
    publish(Event.CALL_PLACED, attempt)


@receiver(signals.call_status_changed, dispatch_uid="clicktocall.events.call_status_changed")
def call_status_changed(sender, attempt: CallAttempt, old_status: str, new_status: str, **kwargs) -> None:
    publish(Event.CALL_STATUS_CHANGED, attempt, old_status=old_status, new_status=new_status)


@receiver(signals.call_completed, dispatch_uid="clicktocall.events.call_completed")
def call_completed(sender, attempt: CallAttempt, **kwargs) -> None:
    publish(Event.CALL_COMPLETED, attempt)


@receiver(signals.caller_opted_out, dispatch_uid="clicktocall.events.caller_opted_out")
def caller_opted_out(sender, attempt: CallAttempt, **kwargs) -> None:
    publish(Event.CALLER_OPTED_OUT, attempt)
