"""A line set up to call members of Congress: by the operator command, and the checks on its data."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError

from clicktocall.models import CampaignLine, CongressDataset
from clicktocall.targets.us_congress import checks as us_checks

from .contract import LINE
from .us_congress import congress_line

pytestmark = pytest.mark.django_db


def test_an_operator_scripts_a_congress_line():
    out = io.StringIO()
    call_command(
        "clicktocall_line",
        "8559299898",
        "--target-source=us-congress",
        "--chambers=house,senate",
        "--order=house-first",
        "--shuffle",
        "--max=2",
        "--custom-targets=fallback",
        "--split-zip=single",
        "--office=district",
        "--next-office",
        "--caller-id=caller",
        stdout=out,
    )
    line = CampaignLine.objects.get(phone_number=LINE)
    assert (
        line.target_source,
        line.congress_chambers,
        line.congress_order,
        line.congress_shuffle,
        line.congress_max,
        line.congress_custom,
        line.congress_split,
        line.congress_office,
        line.congress_office_fallback,
        line.caller_id,
    ) == ("us-congress", "both", "house-first", True, 2, "fallback", "single", "district", True, "caller")
    assert "targets=us-congress chambers=both order=house-first shuffle=yes max=2" in out.getvalue()
    call_command("clicktocall_line", LINE, "--chambers=senate", "--max=0", "--no-shuffle", stdout=io.StringIO())
    line.refresh_from_db()
    assert (line.congress_chambers, line.congress_max, line.congress_shuffle) == ("senate", None, False)


@pytest.mark.parametrize("bad", [["--chambers=congress"], ["--max=-1"], ["--target-source=council"]])
def test_the_command_refuses_bad_target_options(bad):
    with pytest.raises(CommandError):
        call_command("clicktocall_line", LINE, *bad, stdout=io.StringIO(), stderr=io.StringIO())
    assert not CampaignLine.objects.exists()


def ids() -> list[str]:
    return [message.id for message in us_checks.check_us_congress_data()]


def test_checks_warn_about_old_data_only_for_congress_lines(us_data, settings):
    CongressDataset.objects.update(released=dt.date.today() - dt.timedelta(days=400))
    assert ids() == []  # no line calls members of Congress
    congress_line()
    assert "clicktocall.W070" in ids()
    settings.CLICKTOCALL_US_DATA_MAX_AGE_DAYS = 500
    assert "clicktocall.W070" not in ids()
    settings.CLICKTOCALL_US_DATA_MAX_AGE_DAYS = "soon"
    assert ids() == ["clicktocall.E070"]


def test_checks_say_the_data_is_stale_when_the_120th_congress_has_started(us_data, settings, monkeypatch):
    congress_line()
    settings.CLICKTOCALL_US_DATA_MAX_AGE_DAYS = 10_000
    monkeypatch.setattr(us_checks.timezone, "localdate", lambda: dt.date(2027, 1, 4))
    [warning] = us_checks.check_us_congress_data()
    assert warning.id == "clicktocall.W071" and warning.level == checks.WARNING
    assert "the term of 472 member(s) has ended" in warning.msg
    monkeypatch.setattr(us_checks.timezone, "localdate", lambda: dt.date(2026, 6, 16))
    assert us_checks.check_us_congress_data() == []
