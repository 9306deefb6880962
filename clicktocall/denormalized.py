"""Figures copied onto rows so that the results page reads one table per question.

``CallAttempt.connected_legs`` counts the attempt's legs that connected to a target, and
``CallLeg.line`` and ``CallLeg.requested_at`` copy its attempt's line and request time.
``CallLeg.save`` sets the copies when a leg is created and ``lifecycle.end_leg``
recounts the connections when a leg ends; :func:`backfill` fills both for rows written
before they existed, in batches (the migration that adds the fields runs it). The
functions take the models as arguments so that a migration can pass its historical ones.
"""

from __future__ import annotations

from django.db.models import Count, Exists, Max, Min, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

#: ``CallLeg.Status.COMPLETED`` (the models are passed in): a leg that connected the caller to its target.
COMPLETED = "completed"


def count_connected(attempts: QuerySet, leg_model: type[Model]) -> int:
    """Set ``connected_legs`` of ``attempts`` to how many of their legs connected, in one UPDATE.

    Returns the number of attempts updated. Counting (rather than adding one) makes it
    idempotent: a repeated callback recounts the same legs.
    """
    completed = (
        leg_model.objects.filter(attempt=OuterRef("pk"), status=COMPLETED)
        .order_by()
        .values("attempt")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return attempts.update(connected_legs=Coalesce(Subquery(completed), 0))


def backfill(attempt_model: type[Model], leg_model: type[Model], batch: int = 10_000) -> None:
    """Fill the copied fields of every leg and attempt, ``batch`` attempt ids at a time."""
    ids = attempt_model.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if ids["low"] is None:
        return
    for low in range(ids["low"], ids["high"] + 1, batch):
        attempt = attempt_model.objects.filter(pk=OuterRef("attempt_id"))
        leg_model.objects.filter(attempt_id__gte=low, attempt_id__lt=low + batch).update(
            line=Subquery(attempt.values("line_id")[:1]),
            requested_at=Subquery(attempt.values("created_at")[:1]),
        )
        connected = leg_model.objects.filter(attempt=OuterRef("pk"), status=COMPLETED)
        count_connected(attempt_model.objects.filter(Exists(connected), pk__gte=low, pk__lt=low + batch), leg_model)
