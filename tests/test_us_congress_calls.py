"""Whole calls to the caller's members of Congress, played by the Twilio stand-in."""

from __future__ import annotations

import pytest

from clicktocall.models import CallAttempt, CallLeg, CampaignLine, CongressOffice, Target

from .test_calls_end_to_end import LINE, PHONE, request_call, twilio  # noqa: F401 (a fixture)
from .twilio_standin import Scenario
from .us_congress import LYNCH, LYNCH_DC, MARKEY, MARKEY_DC, WARREN, WARREN_DC, congress_line

pytestmark = pytest.mark.django_db(transaction=True)

SWITCHBOARD = "+12022243121"


@pytest.fixture
def congress(us_data):
    return congress_line(script="Thank you for calling, {{ name }}.", closing_message="Goodbye.")


def legs() -> list[tuple[str, str, str]]:
    return [(leg.member_id, leg.office_id, leg.status) for leg in CallLeg.objects.order_by("position")]


def test_02113_dials_both_senators_then_the_representative_from_the_line(live_server, twilio, congress):  # noqa: F811 (the fixture)
    call = twilio.run_call(request_call(live_server, twilio), Scenario(digits=["1"]))

    assert [d["number"] for d in call.dialed] == [WARREN_DC, MARKEY_DC, LYNCH_DC]
    assert {d["callerId"] for d in call.dialed} == {LINE}
    assert "Say: Connecting you to Senator Elizabeth Warren. Press star at any time to move on to the next one." in (
        call.heard
    )
    assert "Say: Connecting you to Representative Stephen F. Lynch." in call.heard
    assert call.said[-1] == "Goodbye."
    assert legs() == [(WARREN, "dc", "completed"), (MARKEY, "dc", "completed"), (LYNCH, "dc", "completed")]
    assert CallAttempt.objects.get().connected_legs == 3


def test_house_first_with_the_callers_own_number(live_server, twilio, congress):  # noqa: F811 (the fixture)
    congress.congress_order = CampaignLine.ChamberOrder.HOUSE_FIRST
    congress.caller_id = CampaignLine.CallerId.CALLER
    congress.save()
    call = twilio.run_call(request_call(live_server, twilio), Scenario(digits=["1"], dial_outcomes={LYNCH_DC: "star"}))

    assert [d["number"] for d in call.dialed] == [LYNCH_DC, WARREN_DC, MARKEY_DC]
    assert {d["callerId"] for d in call.dialed} == {PHONE}
    assert [member for member, _, _ in legs()] == [LYNCH, WARREN, MARKEY]


def test_no_zip_the_caller_keys_it_in(live_server, twilio, congress):  # noqa: F811 (the fixture)
    congress.human_check = CampaignLine.HumanCheck.NONE
    congress.save()
    call = twilio.run_call(request_call(live_server, twilio, zip=""), Scenario(digits=["02113"]))

    assert call.said[:2] == ["Thank you for calling, Paul Revere.", "Please enter your five-digit ZIP code."]
    assert "Pressed 02113" in call.heard
    assert [d["number"] for d in call.dialed] == [WARREN_DC, MARKEY_DC, LYNCH_DC]
    assert CallAttempt.objects.get().variables["zip"] == "02113"


def test_an_unknown_zip_is_asked_again_then_the_fallback_is_called(live_server, twilio, congress):  # noqa: F811 (the fixture)
    congress.congress_custom = CampaignLine.CustomTargets.FALLBACK
    congress.save()
    Target.objects.create(line=congress, name="the Capitol switchboard", phone_number=SWITCHBOARD)
    call = twilio.run_call(request_call(live_server, twilio, zip="00000"), Scenario(digits=["1", "99999", ""]))

    assert call.said.count("Please enter your five-digit ZIP code.") == 2
    assert "Say: Sorry, we could not find that ZIP code." in call.heard
    assert [d["number"] for d in call.dialed] == [SWITCHBOARD]
    assert [leg.target_name for leg in CallLeg.objects.all()] == ["the Capitol switchboard"]


def test_nothing_found_and_no_fallback_apologizes(live_server, twilio, congress):  # noqa: F811 (the fixture)
    call = twilio.run_call(request_call(live_server, twilio, zip=""), Scenario(digits=["1", "00000", "11111"]))

    assert call.dialed == []
    assert call.said[-1] == "Sorry, we could not find whom to connect you to. Goodbye."
    assert call.heard[-1] == "Hangup" and not CallLeg.objects.exists()


def test_a_busy_office_then_the_same_members_next_office(live_server, twilio, congress):  # noqa: F811 (the fixture)
    congress.congress_office_fallback = True
    congress.congress_chambers = CampaignLine.Chambers.SENATE
    congress.save()
    boston = CongressOffice.objects.get(office_id=f"{WARREN}-boston").phone_number
    call = twilio.run_call(request_call(live_server, twilio), Scenario(digits=["1"], dial_outcomes={WARREN_DC: "busy"}))

    assert [d["number"] for d in call.dialed] == [WARREN_DC, boston, MARKEY_DC]
    assert call.heard.index("Say: Senator Elizabeth Warren is busy.") < call.heard.index(
        "Say: Trying another office of Senator Elizabeth Warren. Press star at any time to move on to the next one."
    )
    assert legs() == [
        (WARREN, "dc", "busy"),
        (WARREN, f"{WARREN}-boston", "completed"),
        (MARKEY, "dc", "completed"),
    ]


def test_the_nearest_district_office_instead_of_dc(live_server, twilio, congress):  # noqa: F811 (the fixture)
    congress.congress_office = CampaignLine.Office.DISTRICT
    congress.congress_chambers = CampaignLine.Chambers.HOUSE
    congress.save()
    call = twilio.run_call(request_call(live_server, twilio), Scenario(digits=["1"]))

    office = CallLeg.objects.get().office_id
    assert office.startswith(LYNCH) and office != "dc"
    assert [d["number"] for d in call.dialed] == [CongressOffice.objects.get(office_id=office).phone_number]
