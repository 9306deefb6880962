"""Seeding call history with chosen dates, for the stats tests, benchmarks and screenshots."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from clicktocall.denormalized import count_connected
from clicktocall.models import CallAttempt, CallLeg, CampaignLine, Target


def two_targets(line: CampaignLine) -> list[Target]:
    """The line's two offices to call, in order: Sen. Warren, then Rep. Pressley."""
    return [
        Target.objects.create(line=line, position=0, name="Sen. Warren", phone_number="+12022244543"),
        Target.objects.create(line=line, position=1, name="Rep. Pressley", phone_number="+12022255111"),
    ]


@dataclass
class Leg:
    target: Target
    status: str = CallLeg.Status.COMPLETED
    duration: int | None = None


def attempt(
    line: CampaignLine,
    when: dt.datetime,
    outcome: str = CallAttempt.Outcome.PLACED,
    *,
    answered: bool = False,
    duration: int | None = None,
    legs: tuple[Leg, ...] = (),
    phone: str = "+16175232338",
) -> CallAttempt:
    """One attempt made at ``when`` (``created_at`` is set after the insert, past auto_now_add)."""
    record = CallAttempt.objects.create(
        line=line,
        phone=phone,
        outcome=outcome,
        status=CallAttempt.Status.COMPLETED if answered else "",
        answered_at=when + dt.timedelta(seconds=20) if answered else None,
        duration=duration,
    )
    CallAttempt.objects.filter(pk=record.pk).update(created_at=when)
    for position, leg in enumerate(legs):
        CallLeg.objects.create(
            attempt=record,
            target=leg.target,
            position=position,
            target_name=leg.target.name,
            target_number=leg.target.phone_number,
            status=leg.status,
            duration=leg.duration,
            line=line,
            requested_at=when,
        )
    count_connected(CallAttempt.objects.filter(pk=record.pk), CallLeg)
    record.refresh_from_db()
    return record


def history(line: CampaignLine, targets: list[Target], days: int, today: dt.date, seed: int = 6) -> int:
    """A plausible campaign: a few dozen requests a day with a midweek peak. Returns the count."""
    rng = random.Random(seed)
    attempts: list[CallAttempt] = []
    dates: list[dt.datetime] = []
    for offset in range(days):
        day = today - dt.timedelta(days=days - 1 - offset)
        volume = int(20 + 25 * (1 + (offset % 7 in (1, 2, 3))) * rng.random())
        for _ in range(volume):
            roll = rng.random()
            outcome = (
                CallAttempt.Outcome.PLACED
                if roll < 0.8
                else CallAttempt.Outcome.INVALID
                if roll < 0.88
                else CallAttempt.Outcome.THROTTLED
                if roll < 0.95
                else CallAttempt.Outcome.BLOCKED
                if roll < 0.98
                else CallAttempt.Outcome.ERROR
            )
            when = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randrange(600))
            answered = outcome == CallAttempt.Outcome.PLACED and rng.random() < 0.7
            attempts.append(
                CallAttempt(
                    line=line,
                    phone=f"+1617555{rng.randrange(10000):04d}",
                    outcome=outcome,
                    status=CallAttempt.Status.COMPLETED if answered else "",
                    answered_at=when + dt.timedelta(seconds=25) if answered else None,
                    duration=rng.randrange(40, 400) if answered else None,
                )
            )
            dates.append(when)
    CallAttempt.objects.bulk_create(attempts, batch_size=1000)
    for record, when in zip(attempts, dates, strict=True):
        record.created_at = when
    CallAttempt.objects.bulk_update(attempts, ["created_at"], batch_size=1000)
    legs = []
    for record in attempts:
        if record.answered_at is None:
            continue
        for position, target in enumerate(targets):
            connected = rng.random() < (0.85 - 0.2 * position)
            legs.append(
                CallLeg(
                    attempt=record,
                    target=target,
                    position=position,
                    target_name=target.name,
                    target_number=target.phone_number,
                    status=CallLeg.Status.COMPLETED if connected else CallLeg.Status.NO_ANSWER,
                    duration=rng.randrange(20, 240) if connected else None,
                    line=line,
                    requested_at=record.created_at,
                )
            )
    CallLeg.objects.bulk_create(legs, batch_size=1000)
    count_connected(CallAttempt.objects.filter(line=line), CallLeg)
    return len(attempts)
