"""Anonymize or delete call attempts older than N days, for campaigns' privacy duties.

    python manage.py clicktocall_retention --days 90              # anonymize (the default)
    python manage.py clicktocall_retention --days 365 --delete
    python manage.py clicktocall_retention --days 90 --dry-run    # count only

Anonymizing clears everything that identifies the constituent (number, name, email,
address, user agent, referring page, submitted parameters, variables, the error
detail, which can quote the number or the address, and the provider's call ids of the
call and of its target legs, which lead back to the number in the provider's console)
and keeps the line, the outcome, the call's status, times and duration, so the
campaign's figures stay. Webhook deliveries older than N days are deleted in either mode:
their bodies hold what the events carried. The work is done in batches, each in its own
transaction.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ...models import CallAttempt, CallLeg, WebhookDelivery

ANONYMOUS = {
    "phone": "",
    "name": "",
    "email": "",
    "client_ip": None,
    "user_agent": "",
    "referrer": "",
    "submitted": {},
    "variables": {},
    "error_detail": "",  # may quote the number or the address (a provider's message, a blocked network)
    "provider_call_id": "",  # the provider's console shows the call's number under it
}


def identifying() -> Q:
    """Attempts that still hold something personal: any field of ``ANONYMOUS`` not yet cleared."""
    q = Q()
    for name, cleared in ANONYMOUS.items():
        q |= Q(**{f"{name}__isnull": False}) if cleared is None else ~Q(**{name: cleared})
    return q


class Command(BaseCommand):
    help = "Anonymize (default) or delete call attempts older than --days days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, required=True, help="Keep attempts of the last N days as they are.")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--anonymize", action="store_true", help="Clear personal data, keep the figures (default).")
        mode.add_argument("--delete", action="store_true", help="Delete the attempts altogether.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would change.")
        parser.add_argument("--batch-size", type=int, default=1000, help="Attempts per transaction (default 1000).")

    def handle(self, *args, days: int, delete: bool, dry_run: bool, batch_size: int, **options) -> None:
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        cutoff = timezone.now() - timedelta(days=days)
        # A call still scheduled (a call-back, a reminder) needs its number until it is placed.
        old = CallAttempt.objects.filter(created_at__lt=cutoff).exclude(outcome=CallAttempt.Outcome.SCHEDULED)
        if not delete:
            old = old.filter(identifying())
        verb = "delete" if delete else "anonymize"
        deliveries = WebhookDelivery.objects.filter(created_at__lt=cutoff)
        if dry_run:
            self.stdout.write(f"Would {verb} {old.count()} call attempts older than {cutoff:%Y-%m-%d %H:%M} UTC.")
            self.stdout.write(f"Would delete {deliveries.count()} webhook deliveries.")
            return
        verbosity = options.get("verbosity", 1)
        done = self._in_batches(old, batch_size, delete, verbosity)
        past = "Deleted" if delete else "Anonymized"
        self.stdout.write(self.style.SUCCESS(f"{past} {done} call attempts older than {cutoff:%Y-%m-%d %H:%M} UTC."))
        done = self._in_batches(deliveries, batch_size, True, verbosity)
        self.stdout.write(self.style.SUCCESS(f"Deleted {done} webhook deliveries."))

    def _in_batches(self, queryset: QuerySet, batch_size: int, delete: bool, verbosity: int) -> int:
        done = 0
        last_pk = 0
        while True:
            pks = list(queryset.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not pks:
                return done
            last_pk = pks[-1]
            with transaction.atomic():
                batch = queryset.model.objects.filter(pk__in=pks)
                if delete:
                    batch.delete()
                else:
                    batch.update(**ANONYMOUS, updated_at=timezone.now())
                    CallLeg.objects.filter(attempt__in=pks).exclude(provider_call_id="").update(provider_call_id="")
            done += len(pks)
            if verbosity >= 2:
                self.stdout.write(f"… {done}")
