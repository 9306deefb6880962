"""The one interface of target sources: an attempt (and its line) in, an ordered list of targets out.

A source is chosen per line (``CampaignLine.target_source``), like a telephony backend:
``custom`` (the line's own Target rows) or ``us-congress`` (the caller's members of
Congress). Another source (state legislators, a council, an uploaded list) subclasses
``TargetSource`` and is added to ``SOURCES`` in ``clicktocall.targets``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models import CampaignLine


@dataclass(frozen=True)
class Office:
    """One number a target can be reached at."""

    phone_number: str
    extension: str = ""
    office_id: str = ""  # e.g. "dc" or the dataset's district office id
    place: str = ""  # e.g. "Washington, DC" or "Boston, MA"
    time_zone: str = ""  # IANA name, when known


@dataclass(frozen=True)
class ResolvedTarget:
    """Someone to connect the caller to, with the numbers to try in order."""

    name: str  # spoken label, e.g. "Senator Elizabeth Warren"
    offices: tuple[Office, ...]
    kind: str = "custom"  # custom, senate, house
    target_id: int | None = None  # the Target row of a custom target
    member_id: str = ""  # the bioguide id of a member of Congress
    order_key: tuple[int, int] = (0, 0)  # custom targets: (position, pk), to find the next one when the list changes
    hours: tuple[tuple[str, Any], ...] = ()  # the parts of the line's office hours this target replaces

    @property
    def phone_number(self) -> str:
        return self.offices[0].phone_number

    @property
    def extension(self) -> str:
        return self.offices[0].extension

    @property
    def office_id(self) -> str:
        return self.offices[0].office_id

    @property
    def time_zone(self) -> str:
        return self.offices[0].time_zone


@dataclass
class Resolution:
    """The targets of one call, and whether the caller should key in a ZIP code to find more."""

    targets: list[ResolvedTarget] = field(default_factory=list)
    needs_zip: bool = False
    note: str = ""  # why no target was found, for staff


class TargetSource:
    """Turns a line and an attempt's variables into an ordered list of targets."""

    def resolve(self, line: CampaignLine, variables: Mapping[str, Any], *, seed: str = "") -> Resolution:
        """The targets for a call on ``line`` with these variables; ``seed`` makes any shuffle repeatable."""
        raise NotImplementedError

    def request_problems(self, variables: Mapping[str, Any]) -> dict[str, str]:
        """Problems with the request's variables that make it bad input for this source (no query)."""
        return {}
