"""Where the caller is: a ZIP code, or a state and district, read from an attempt's variables.

``zip`` is 5 digits or ZIP+4 (its first five count). ``state`` + ``district`` (``MA``,
``8``) or ``congressional_district`` (``MA-08``) win over ``zip``: a page that has looked
the address up itself knows better than a ZIP code area.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ZIP_RE = re.compile(r"^(\d{5})(?:[- ]?\d{4})?$")
DISTRICT_RE = re.compile(r"^([A-Za-z]{2})[- ]?(\d{1,2}|AL|at-large)$", re.IGNORECASE)
STATES = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split()
)
# Represented by a delegate (Puerto Rico: a resident commissioner), without senators.
TERRITORIES = frozenset({"DC", "PR", "AS", "GU", "MP", "VI"})
KEYS = ("zip", "state", "district", "congressional_district")


@dataclass(frozen=True)
class Location:
    zip: str = ""
    state: str = ""
    district: int | None = None

    @property
    def known(self) -> bool:
        return bool(self.zip or self.state)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _district(text: str) -> int | None:
    if text.upper() in ("AL", "AT-LARGE", "0", "00"):
        return 0
    return int(text) if text.isdigit() and int(text) <= 60 else None


def read(variables: Mapping[str, Any]) -> tuple[Location, dict[str, str]]:
    """The caller's location from ``variables``, and what was malformed (never raises)."""
    problems: dict[str, str] = {}
    for key in KEYS:
        if key in variables and variables[key] not in (None, "") and not isinstance(variables[key], str):
            problems[key] = "must be text"
    zip_code = ""
    raw_zip = _text(variables.get("zip"))
    if raw_zip:
        match = ZIP_RE.match(raw_zip)
        if match:
            zip_code = match.group(1)
        else:
            problems["zip"] = "not a ZIP code (5 digits, or ZIP+4)"
    state, district = "", None
    raw_cd = _text(variables.get("congressional_district"))
    raw_state, raw_district = _text(variables.get("state")).upper(), _text(variables.get("district"))
    if raw_cd:
        match = DISTRICT_RE.match(raw_cd)
        if match and match.group(1).upper() in STATES | TERRITORIES and _district(match.group(2)) is not None:
            state, district = match.group(1).upper(), _district(match.group(2))
        else:
            problems["congressional_district"] = "not a congressional district such as MA-08"
    elif raw_state and raw_district:
        if raw_state not in STATES | TERRITORIES:
            problems["state"] = "not a US state or territory code such as MA"
        elif _district(raw_district) is None:
            problems["district"] = "not a district number"
        else:
            state, district = raw_state, _district(raw_district)
    if state:
        return Location(zip_code, state, district), problems
    return Location(zip_code), problems
