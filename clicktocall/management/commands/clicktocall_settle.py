"""Settle call attempts whose outcome is unknown by looking their calls up at the provider.

    python manage.py clicktocall_settle                    # attempts unknown for a minute or more
    python manage.py clicktocall_settle --older-than 600

An attempt is ``unknown`` when the provider's answer to the request that created its
call was lost (a timeout after the request was sent). Its status callback normally
settles it; this command settles the others: the call found at the provider makes the
attempt ``placed``, no call makes it ``error`` (and gives its limits back). Attempts the
provider cannot tell about stay ``unknown`` for a later run.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ... import calls
from ...exceptions import TelephonyError
from ...models import CallAttempt


class Command(BaseCommand):
    help = "Look up at the provider the calls of attempts whose outcome is unknown, and record them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than", type=int, default=60, help="Seconds an attempt has been unknown (default 60)."
        )

    def handle(self, *args, older_than: int, **options) -> None:
        if older_than < 0:
            raise CommandError("--older-than must be 0 or more.")
        cutoff = timezone.now() - timedelta(seconds=older_than)
        unknown = CallAttempt.objects.filter(outcome=CallAttempt.Outcome.UNKNOWN, updated_at__lte=cutoff)
        counts: Counter[str] = Counter()
        for attempt in unknown.select_related("line").order_by("pk").iterator():
            try:
                counts[calls.settle(attempt)] += 1
            except NotImplementedError as exc:
                raise CommandError(str(exc)) from exc
            except TelephonyError as exc:
                counts[CallAttempt.Outcome.UNKNOWN] += 1
                self.stderr.write(f"attempt {attempt.pk}: {exc}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Settled {counts['placed']} as placed, {counts['error']} as failed; {counts['unknown']} left unknown."
            )
        )
