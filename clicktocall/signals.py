"""Signals a host project can connect to (e.g. to sync a CRM); the webhooks are built on them.

- ``attempt_created(sender=CallAttempt, attempt=…)``: a request to ``/outgoing`` naming a
  known line was recorded, whatever its outcome (refused ones included).
- ``call_placed(sender=CallAttempt, attempt=…)``: the provider accepted the call.
- ``call_status_changed(sender=CallAttempt, attempt=…, old_status=…, new_status=…)``:
  the provider reported a new status for the call.
- ``call_completed(sender=CallAttempt, attempt=…)``: the call ended (any end status:
  completed, busy, no-answer, failed, canceled), once per call.
- ``caller_opted_out(sender=CallAttempt, attempt=…)``: the person pressed the opt-out
  key during the call; their number is now on the do-not-call list.
"""

from django.dispatch import Signal

attempt_created = Signal()
call_placed = Signal()
call_status_changed = Signal()
call_completed = Signal()
caller_opted_out = Signal()
