"""Signals a host project can connect to (e.g. to sync a CRM).

- ``call_placed(sender=CallAttempt, attempt=…)``: the provider accepted the call.
- ``call_status_changed(sender=CallAttempt, attempt=…, old_status=…, new_status=…)``:
  the provider reported a new status for the call.
"""

from django.dispatch import Signal

call_placed = Signal()
call_status_changed = Signal()
