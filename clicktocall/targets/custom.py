"""The line's own targets (``Target`` rows), in their order: the default source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .base import Office, Resolution, ResolvedTarget, TargetSource

if TYPE_CHECKING:
    from ..models import CampaignLine, Target


def resolved(target: Target) -> ResolvedTarget:
    from ..hours.offices import target_override

    return ResolvedTarget(
        name=target.name,
        offices=(Office(target.phone_number, target.extension, time_zone=target.time_zone),),
        target_id=target.pk,
        order_key=(target.position, target.pk or 0),
        hours=tuple(sorted(target_override(target).items())),
    )


def active_targets(line: CampaignLine) -> list[ResolvedTarget]:
    """The line's active targets in the order they are called."""
    if line.pk is None:
        return []
    kept = getattr(line, "active_targets", None)  # read with the line, by each process (``lines.find``)
    targets = kept if kept is not None else line.targets.filter(is_active=True).order_by("position", "pk")
    return [resolved(target) for target in targets]


class CustomTargets(TargetSource):
    def resolve(self, line: CampaignLine, variables: Mapping[str, Any], *, seed: str = "") -> Resolution:
        return Resolution(active_targets(line))
