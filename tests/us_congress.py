"""Numbers and ids of members of Congress in the shipped data, and a line that calls them."""

from __future__ import annotations

from clicktocall.models import CampaignLine

from .contract import LINE

WARREN, MARKEY, LYNCH = "W000817", "M000133", "L000562"
WARREN_DC, MARKEY_DC, LYNCH_DC = "+12022244543", "+12022242742", "+12022258273"
NORTON = "N000147"
SANDERS, WELCH, BALINT = "S000033", "W000800", "B001318"


def congress_line(**fields) -> CampaignLine:
    """The test line, set to call the caller's members of Congress (``fields`` change it)."""
    line, _ = CampaignLine.objects.get_or_create(phone_number=LINE, defaults={"name": "Congress"})
    for name, value in {"target_source": CampaignLine.TargetSource.US_CONGRESS, **fields}.items():
        setattr(line, name, value)
    line.save()
    return line
