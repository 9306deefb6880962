"""System checks of the US Congress data, when a line targets members of Congress.

The data ages: a new Congress every odd January (the 120th on 3 January 2027), special
elections, vacancies. ``check`` warns when the loaded release is older than
``CLICKTOCALL_US_DATA_MAX_AGE_DAYS`` or when a member's term has ended.
"""

from __future__ import annotations

import datetime as dt

from django.core import checks
from django.db import DatabaseError
from django.utils import timezone

from ...conf import conf


@checks.register()
def check_us_congress_data(app_configs=None, **kwargs):
    try:
        max_age = conf.US_DATA_MAX_AGE_DAYS
        if max_age < 1:
            raise ValueError
    except (TypeError, ValueError):
        return [
            checks.Error(
                "CLICKTOCALL_US_DATA_MAX_AGE_DAYS must be a whole number of days, 1 or more.",
                hint="Set it to how old the US Congress data may get, e.g. 180.",
                id="clicktocall.E070",
            )
        ]
    try:
        return _data_warnings(max_age)
    except DatabaseError:  # no database yet (before migrate): nothing to say about the data
        return []


def _data_warnings(max_age: int) -> list[checks.CheckMessage]:
    from ...models import CampaignLine
    from .models import CongressDataset, CongressMember

    if not CampaignLine.objects.filter(
        target_source=CampaignLine.TargetSource.US_CONGRESS, status=CampaignLine.Status.LIVE
    ).exists():
        return []
    today = timezone.localdate()
    dataset = CongressDataset.objects.first()
    warnings = []
    refresh = "Run manage.py clicktocall_us_data --from PATH_OR_URL with a newer release (see docs/congress.md)."
    if dataset is not None and today - dataset.released > dt.timedelta(days=max_age):
        warnings.append(
            checks.Warning(
                f"The US Congress data {dataset.version} was released on {dataset.released}, more than "
                f"{max_age} days ago (CLICKTOCALL_US_DATA_MAX_AGE_DAYS).",
                hint=refresh,
                id="clicktocall.W070",
            )
        )
    ended = CongressMember.objects.filter(term_end__lt=today).order_by("term_end", "bioguide")
    count = ended.count()
    if count:
        names = ", ".join(f"{m.label} ({m.seat}, {m.term_end})" for m in ended[:5])
        warnings.append(
            checks.Warning(
                f"The US Congress data is stale: the term of {count} member(s) has ended: {names}"
                f"{', …' if count > 5 else ''}.",
                hint=refresh,
                id="clicktocall.W071",
            )
        )
    return warnings
