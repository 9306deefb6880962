"""Finding the caller's members of Congress: from a ZIP code, a district, or nothing yet."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clicktocall import targets
from clicktocall.models import CallAttempt, CampaignLine, CongressMember, Target

from .contract import INVALID, PLACED, VALID, message
from .us_congress import BALINT, LYNCH, LYNCH_DC, MARKEY, NORTON, SANDERS, WARREN, WARREN_DC, WELCH, congress_line

pytestmark = pytest.mark.django_db


def members(line, **variables) -> list[str]:
    return [target.member_id for target in targets.resolve(line, variables).targets]


@pytest.fixture
def congress(us_data):
    return congress_line()


def test_a_one_district_zip_gives_both_senators_then_the_representative(congress):
    resolution = targets.resolve(congress, {"zip": "02113"})
    assert [(t.name, t.kind, t.member_id) for t in resolution.targets] == [
        ("Senator Elizabeth Warren", "senate", WARREN),
        ("Senator Edward J. Markey", "senate", MARKEY),
        ("Representative Stephen F. Lynch", "house", LYNCH),
    ]
    assert [t.phone_number for t in resolution.targets][::2] == [WARREN_DC, LYNCH_DC]
    assert all(t.office_id == "dc" and t.time_zone == "America/New_York" for t in resolution.targets)
    assert not resolution.needs_zip


def test_zip_plus_four_counts_its_first_five_digits(congress):
    assert members(congress, zip="02113-1234") == members(congress, zip="021131234") == [WARREN, MARKEY, LYNCH]


def test_a_split_zip_calls_every_representative_or_only_the_fallback(congress):
    assert members(congress, zip="01346") == [WARREN, MARKEY, "N000015", "M000312"]  # MA-01 and MA-02
    Target.objects.create(line=congress, name="Capitol switchboard", phone_number="+12022243121")
    congress.congress_split = CampaignLine.SplitZip.SINGLE
    congress.congress_custom = CampaignLine.CustomTargets.FALLBACK
    resolution = targets.resolve(congress, {"zip": "01346"})
    assert [t.name for t in resolution.targets] == ["Capitol switchboard"]
    assert not resolution.needs_zip  # the ZIP code was found: asking for it again would not help
    assert members(congress, zip="02113") == [WARREN, MARKEY, LYNCH]  # one district: the members


def test_a_zip_across_states_gives_the_senators_of_each_state(congress):
    found = members(congress, zip="02861")  # MA-04 and RI-01
    assert found[:4] == [WARREN, MARKEY, "R000122", "W000802"]
    assert {CongressMember.objects.get(pk=b).seat for b in found[4:]} == {"MA-04", "RI-01"}


def test_an_at_large_state(congress):
    assert members(congress, zip="05401") == [SANDERS, WELCH, BALINT]
    assert targets.resolve(congress, {"zip": "05401"}).targets[2].name == "Representative Becca Balint"


def test_dc_has_a_delegate_and_no_senators(congress):
    resolution = targets.resolve(congress, {"zip": "20001"})
    assert [(t.name, t.member_id) for t in resolution.targets] == [("Delegate Eleanor Holmes Norton", NORTON)]


def test_a_vacant_seat_leaves_the_senators(congress):
    found = members(congress, zip="94541")  # CA-14, vacant in the shipped data
    assert len(found) == 2
    assert {CongressMember.objects.get(pk=b).chamber for b in found} == {"senate"}


@pytest.mark.parametrize(
    "variables",
    [
        {"zip": "02113", "state": "VT", "district": "0"},
        {"zip": "02113", "state": "vt", "district": "AL"},
        {"zip": "02113", "congressional_district": "VT-00"},
        {"zip": "02113", "congressional_district": "VT-AL", "state": "MA", "district": "8"},
    ],
)
def test_state_and_district_win_over_zip(congress, variables):
    assert members(congress, **variables) == [SANDERS, WELCH, BALINT]


def test_a_district_as_sent_by_a_page(congress):
    assert members(congress, state="MA", district="8") == [WARREN, MARKEY, LYNCH]
    assert members(congress, congressional_district="MA-08") == [WARREN, MARKEY, LYNCH]


@pytest.mark.parametrize("variables", [{}, {"zip": "00000"}, {"first_name": "Ann"}])
def test_no_zip_or_an_unknown_one_asks_for_it(congress, variables):
    resolution = targets.resolve(congress, variables)
    assert resolution.targets == [] and resolution.needs_zip


def test_unknown_zip_falls_back_to_the_lines_targets(congress):
    Target.objects.create(line=congress, name="Capitol switchboard", phone_number="+12022243121")
    congress.congress_custom = CampaignLine.CustomTargets.FALLBACK
    resolution = targets.resolve(congress, {"zip": "00000"})
    assert [t.name for t in resolution.targets] == ["Capitol switchboard"] and resolution.needs_zip
    assert members(congress, zip="02113") == [WARREN, MARKEY, LYNCH]  # found: no fallback


def test_custom_targets_before_or_after_the_members(congress):
    Target.objects.create(line=congress, name="Governor", phone_number="+16177254005")
    congress.congress_custom = CampaignLine.CustomTargets.BEFORE
    assert [t.name for t in targets.resolve(congress, {"zip": "05401"}).targets][0] == "Governor"
    congress.congress_custom = CampaignLine.CustomTargets.AFTER
    assert [t.name for t in targets.resolve(congress, {"zip": "05401"}).targets][-1] == "Governor"


def test_chambers_order_and_limit(congress):
    congress.congress_order = CampaignLine.ChamberOrder.HOUSE_FIRST
    assert members(congress, zip="02113") == [LYNCH, WARREN, MARKEY]
    congress.congress_max = 2
    assert members(congress, zip="02113") == [LYNCH, WARREN]
    congress.congress_max = None
    congress.congress_chambers = CampaignLine.Chambers.SENATE
    assert members(congress, zip="02113") == [WARREN, MARKEY]
    congress.congress_chambers = CampaignLine.Chambers.HOUSE
    assert members(congress, zip="02113") == [LYNCH]


def test_shuffle_is_within_a_chamber_and_the_same_for_one_call(congress):
    congress.congress_shuffle = True
    congress.congress_order = CampaignLine.ChamberOrder.HOUSE_FIRST
    orders = set()
    for seed in map(str, range(20)):
        first = [t.member_id for t in targets.resolve(congress, {"zip": "02861"}, seed=seed).targets]
        again = [t.member_id for t in targets.resolve(congress, {"zip": "02861"}, seed=seed).targets]
        assert first == again
        assert set(first[:2]) == {"A000148", "A000380"} and set(first[2:]) == {WARREN, MARKEY, "R000122", "W000802"}
        orders.add(tuple(first))
    assert len(orders) > 2


def test_offices_dc_first_or_the_nearest_district_office(congress):
    congress.congress_office_fallback = True
    lynch = targets.resolve(congress, {"zip": "02113"}).targets[2]
    assert lynch.offices[0].office_id == "dc" and len(lynch.offices) > 1
    assert all(o.office_id.startswith(LYNCH) and o.time_zone == "America/New_York" for o in lynch.offices[1:])
    congress.congress_office = CampaignLine.Office.DISTRICT
    lynch = targets.resolve(congress, {"zip": "02113"}).targets[2]
    assert lynch.offices[0].office_id.startswith(LYNCH) and lynch.offices[-1].office_id == "dc"
    congress.congress_office_fallback = False
    assert len(targets.resolve(congress, {"zip": "02113"}).targets[2].offices) == 1


def test_custom_lines_are_unchanged(line, targets):  # noqa: F811 (the conftest fixture)
    from clicktocall.targets.custom import CustomTargets

    resolved = CustomTargets().resolve(line, {"zip": "02113"})
    assert [(t.name, t.phone_number, t.target_id) for t in resolved.targets] == [
        (target.name, target.phone_number, target.pk) for target in targets
    ]


# /outgoing


@pytest.mark.parametrize(
    "bad",
    [
        {"zip": "0211"},
        {"zip": "021133"},
        {"zip": "ABCDE"},
        {"data": '{"zip": "1234"}'},
        {"data": '{"zip": 2113}'},
        {"congressional_district": "MA-XY"},
        {"state": "ZZ", "district": "1"},
    ],
)
def test_a_malformed_location_is_bad_input_on_a_congress_line(client, congress, outbox, bad):
    response = client.post("/outgoing", {**VALID, **bad})
    assert response.status_code == 400 and message(response) == INVALID
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "invalid" and outbox == []
    assert any(key in attempt.error_detail for key in ("zip", "congressional_district", "state"))


def test_a_malformed_zip_is_an_ordinary_variable_on_other_lines(client, line, outbox):
    response = client.post("/outgoing", {**VALID, "zip": "0211"})
    assert message(response) == PLACED and CallAttempt.objects.get().variables["zip"] == "0211"


@pytest.mark.parametrize("location", [{}, {"zip": "00000"}, {"zip": "02113-1234"}, {"data": '{"zip": "02113"}'}])
def test_a_missing_or_unknown_zip_is_accepted(client, congress, outbox, location):
    assert message(client.post("/outgoing", {**VALID, **location})) == PLACED
    assert len(outbox) == 1


def test_the_look_up_adds_no_query_to_outgoing(client, settings, line, outbox):
    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert message(client.post("/outgoing", {**VALID, "zip": "02113"})) == PLACED
        return len(queries)

    cost()  # the lines and the network blocklist are read once, then kept
    custom = cost()
    congress_line()
    cost()  # the changed line is read again
    assert cost() == custom


# The call flow's choices


def test_the_callers_number_is_shown_only_when_it_is_the_calls_own_to(congress):
    from clicktocall.callflow import caller_id_for

    attempt = CallAttempt.objects.create(line=congress, phone="+16175232338")
    assert caller_id_for(attempt, "+16175232338") == ""  # the line shows its own number
    congress.caller_id = CampaignLine.CallerId.CALLER
    assert caller_id_for(attempt, "+16175232338") == "+16175232338"
    assert caller_id_for(attempt, "+16175550000") == ""  # not the call's To: Twilio would refuse it
    assert caller_id_for(attempt, "") == ""


def test_after_the_last_custom_target_come_the_members(congress):
    from clicktocall import lifecycle
    from clicktocall.callflow import next_step

    first = Target.objects.create(line=congress, position=0, name="Governor", phone_number="+16177254005")
    second = Target.objects.create(line=congress, position=1, name="Mayor", phone_number="+16176354500")
    congress.congress_custom = CampaignLine.CustomTargets.BEFORE
    congress.congress_office_fallback = True
    listed = targets.resolve(congress, {"zip": "02113"}).targets
    assert [t.name for t in listed][:3] == ["Governor", "Mayor", "Senator Elizabeth Warren"]
    attempt = CallAttempt.objects.create(line=congress, phone="+16175232338")
    legs = [lifecycle.start_leg(attempt, n, target) for n, target in enumerate(listed[:3])]
    assert next_step(listed, legs[0], 0, "completed") == (1, 0)
    second.is_active = False  # staff switch the mayor off during the call
    second.save()
    now = targets.resolve(congress, {"zip": "02113"}).targets
    assert next_step(now, legs[1], 1, "completed") == (1, 0)  # the first member, in the list as it is now
    assert next_step(listed, legs[2], 2, "busy") == (2, 1)  # the same member's next office
    assert next_step(listed, legs[2], 2, "completed") == (3, 0)
    assert first.pk == listed[0].target_id


# The ZIP code webhook


@pytest.mark.parametrize("digits", ["", "abc", "0" * 40, "02113#", "<Say>"])
def test_keyed_in_digits_that_are_no_zip_code_count_as_a_try(congress, digits):
    from django.test import Client

    from .test_webhooks import signed_post, url

    attempt = CallAttempt.objects.create(line=congress, phone="+16175232338", outcome="placed", variables={"a": 1})
    response = signed_post(Client(), url("zip", attempt, tries=0), {"Digits": digits, "To": attempt.phone})
    assert response.status_code == 200
    assert b"Sorry, we could not find that ZIP code." in response.content and b"/zip/" in response.content
    attempt.refresh_from_db()
    assert attempt.variables == {"a": 1}


def test_the_zip_webhook_needs_a_signature(congress):
    from django.test import Client

    from .test_webhooks import url

    attempt = CallAttempt.objects.create(line=congress, phone="+16175232338", outcome="placed")
    assert Client().post(url("zip", attempt, tries=0), {"Digits": "02113"}).status_code == 403
    attempt.refresh_from_db()
    assert "zip" not in attempt.variables
