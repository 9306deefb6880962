"""The caller's members of Congress, from the location the page sent or the caller keyed in.

The look-up happens when the call is answered (in the voice webhook, and again in each
later webhook of the call), never in ``/outgoing``: the request path stays as fast as
before, a call answered after a data refresh uses the new data, and a caller who sent
no ZIP code can key one in. A shuffle is seeded with the call's token, so every webhook
of a call sees the same order.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from ..base import Office, Resolution, ResolvedTarget, TargetSource
from ..custom import active_targets
from . import loader, location
from .models import CongressMember, ZipDistrict

if TYPE_CHECKING:
    from ...models import CampaignLine

DC_OFFICE = "dc"


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def offices(member: CongressMember, zip_code: str, *, district_first: bool) -> list[Office]:
    """The member's numbers in the order to try: the DC office, then district offices nearest first.

    "Nearest" is the office whose ZIP code shares the longest prefix with the caller's
    (ZIP codes are assigned by area: the first three digits name a sectional center).
    """
    dc = (
        [Office(member.phone_number, office_id=DC_OFFICE, place="Washington, DC", time_zone=loader.DC_TIME_ZONE)]
        if member.phone_number
        else []
    )
    local = sorted(member.offices.all(), key=lambda o: (-_shared_prefix(o.zip, zip_code), o.office_id))
    district = [
        Office(
            o.phone_number,
            office_id=o.office_id,
            place=", ".join(filter(None, [o.city, o.state])),
            time_zone=loader.STATE_TIME_ZONES.get(o.state or member.state, ""),
        )
        for o in local
    ]
    return district + dc if district_first else dc + district


def find_members(line: CampaignLine, where: location.Location) -> tuple[list[CongressMember], bool]:
    """The members for ``where`` (unordered), and whether the location was found in the data."""
    if where.state:
        districts = {(where.state, where.district)}
    else:
        districts = set(ZipDistrict.objects.filter(zcta=where.zip).values_list("state", "district"))
        if not districts:
            return [], False
        if line.congress_split == line.SplitZip.SINGLE and len(districts) > 1:
            return [], True
    query = Q(pk__in=[])
    if line.congress_chambers in (line.Chambers.BOTH, line.Chambers.SENATE):
        query |= Q(chamber=CongressMember.Chamber.SENATE, state__in={state for state, _ in districts})
    if line.congress_chambers in (line.Chambers.BOTH, line.Chambers.HOUSE):
        for state, district in districts:
            if district is not None:
                query |= Q(chamber=CongressMember.Chamber.HOUSE, state=state, district=district)
    return list(CongressMember.objects.filter(query).prefetch_related("offices")), True


def ordered(line: CampaignLine, members: list[CongressMember], seed: str) -> list[CongressMember]:
    """Members in the line's order: chambers as chosen, senior senator first or shuffled, at most N."""
    rank = {"senior": 0, "junior": 1}
    senate = sorted(
        (m for m in members if m.chamber == m.Chamber.SENATE),
        key=lambda m: (m.state, rank.get(m.state_rank, 2), m.name),
    )
    house = sorted((m for m in members if m.chamber == m.Chamber.HOUSE), key=lambda m: (m.state, m.district or 0))
    if line.congress_shuffle:
        random.Random(f"{seed}:senate").shuffle(senate)  # noqa: S311 (an order, not a secret)
        random.Random(f"{seed}:house").shuffle(house)  # noqa: S311
    chambers = [senate, house] if line.congress_order == line.ChamberOrder.SENATE_FIRST else [house, senate]
    result = chambers[0] + chambers[1]
    return result[: line.congress_max] if line.congress_max else result


class CongressTargets(TargetSource):
    def request_problems(self, variables: Mapping[str, Any]) -> dict[str, str]:
        return location.read(variables)[1]

    def resolve(self, line: CampaignLine, variables: Mapping[str, Any], *, seed: str = "") -> Resolution:
        where, _ = location.read(variables)
        members: list[CongressMember] = []
        found = False
        if where.known:
            members, found = find_members(line, where)
            if not members and loader.load_if_missing():  # the first look-up of a fresh install
                members, found = find_members(line, where)
        targets = []
        for member in ordered(line, members, seed):
            numbers = offices(member, where.zip, district_first=line.congress_office == line.Office.DISTRICT)
            if not numbers:
                continue
            targets.append(
                ResolvedTarget(
                    name=member.label,
                    offices=tuple(numbers if line.congress_office_fallback else numbers[:1]),
                    kind=member.chamber,
                    member_id=member.bioguide,
                )
            )
        custom = [] if line.congress_custom == line.CustomTargets.NONE else active_targets(line)
        if line.congress_custom == line.CustomTargets.BEFORE:
            combined = custom + targets
        elif line.congress_custom == line.CustomTargets.AFTER:
            combined = targets + custom
        elif line.congress_custom == line.CustomTargets.FALLBACK:
            combined = targets or custom
        else:
            combined = targets
        note = "" if targets else ("no member found for this location" if found else "no ZIP code found")
        return Resolution(combined, needs_zip=not found, note=note)
