"""The contract's parameters: numbers, aliases, merging, bodies, charsets, data, variables."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test.client import encode_multipart

from clicktocall.models import CallAttempt, CampaignLine

from .contract import INVALID, LINE, PHONE, PLACED, UNCONFIGURED, VALID, message

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def post_form(client, fields: dict, content_type: str = FORM, encoding: str = "utf-8", path: str = "/outgoing"):
    return client.generic("POST", path, urlencode(fields, encoding=encoding), content_type=content_type)


def post_json(client, payload, content_type: str = "application/json", path: str = "/outgoing"):
    return client.generic("POST", path, json.dumps(payload), content_type=content_type)


@pytest.mark.parametrize(
    "written",
    [
        "(617) 523-2338",
        "617.523.2338",
        "+1 617 523 2338",
        "617-523-2338",
        "6175232338",
        "16175232338",
        "+16175232338",
        "1 (617) 523-2338",
        "  617 523 2338  ",
    ],
)
def test_each_phone_format_is_normalized_to_e164(client, line, outbox, written):
    r = client.get("/outgoing", {"phone": written, "campaign_line": LINE})
    assert message(r) == PLACED and r.status_code == 200
    assert [c.to for c in outbox] == [PHONE]
    assert CallAttempt.objects.get().phone == PHONE


@pytest.mark.parametrize("written", ["8559299898", "18559299898", "+18559299898", "(855) 929-9898", "+1 855.929.9898"])
def test_campaign_line_formats_name_the_same_line(client, line, outbox, written):
    r = client.get("/outgoing", {"phone": "6175232338", "campaign_line": written})
    assert message(r) == PLACED
    assert [(c.to, c.from_) for c in outbox] == [(PHONE, LINE)]
    assert CallAttempt.objects.get().line == line


def test_default_region_is_configurable(client, line, outbox, settings):
    settings.CLICKTOCALL_DEFAULT_REGION = "GB"
    # Written without a country code, the line is now read as a British number: unknown.
    r = client.get("/outgoing", {"phone": "+1 617 523 2338", "campaign_line": "020 7946 0958"})
    assert message(r) == UNCONFIGURED
    gb = CampaignLine.objects.create(phone_number="+442079460958")
    r = client.get("/outgoing", {"phone": "07400 123456", "campaign_line": "020 7946 0958"})
    assert message(r) == PLACED
    assert outbox[-1].to == "+447400123456" and outbox[-1].from_ == gb.phone_number


def test_callerid_is_an_alias_of_phone(client, line, outbox):
    r = client.get("/outgoing", {"CallerID": "617.523.2338", "campaign_line": "8559299898"})
    assert message(r) == PLACED
    assert [c.to for c in outbox] == [PHONE]


def test_phone_wins_over_callerid(client, line, outbox):
    r = client.get("/outgoing", {"phone": "617.523.2338", "CallerID": "212 555 0100", "campaign_line": LINE})
    assert message(r) == PLACED
    assert [c.to for c in outbox] == [PHONE]


@pytest.mark.parametrize("missing", ["phone", "campaign_line"])
def test_required_parameter_missing(client, line, outbox, missing):
    fields = {k: v for k, v in VALID.items() if k != missing}
    r = client.get("/outgoing", fields)
    assert r.status_code == 400 and message(r) == INVALID
    assert outbox == []


@pytest.mark.parametrize("phone", ["123", "not a number", "555-0100", "+1 000 000 0000", "6" * 70, "+999 123"])
def test_invalid_phone_is_a_format_error_and_is_recorded(client, line, outbox, phone):
    r = client.get("/outgoing", {"phone": phone, "campaign_line": LINE})
    assert r.status_code == 400 and message(r) == INVALID
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "invalid" and "phone" in attempt.error_detail
    assert attempt.submitted["phone"] == phone
    assert outbox == []


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",  # another country than the line's
        "+1 900 555 0199",  # premium rate
    ],
)
def test_destination_not_allowed_is_a_format_error(client, line, outbox, phone):
    r = client.get("/outgoing", {"phone": phone, "campaign_line": LINE})
    assert message(r) == INVALID
    assert CallAttempt.objects.get().outcome == "invalid"
    assert outbox == []


def test_invalid_campaign_line_is_a_format_error(client, line, outbox):
    r = client.get("/outgoing", {"phone": "6175232338", "campaign_line": "12"})
    assert message(r) == INVALID
    assert not CallAttempt.objects.exists()  # no line named: nothing to record against


# Merging the query string and the body


def test_query_and_body_merge_with_body_winning(client, line, outbox):
    r = client.generic(
        "POST",
        "/outgoing?name=Query&zip=02113&campaign_line=8559299898",
        urlencode({"name": "Body", "phone": "6175232338"}),
        content_type=FORM,
    )
    assert message(r) == PLACED
    attempt = CallAttempt.objects.get()
    assert attempt.name == "Body"
    assert attempt.variables == {"zip": "02113"}


def test_query_and_json_body_merge_with_body_winning(client, line, outbox):
    r = client.generic(
        "POST",
        "/outgoing?phone=212-555-0100&campaign_line=8559299898&first_name=Paul",
        json.dumps({"phone": "617 523 2338", "first_name": "Samuel"}),
        content_type="application/json",
    )
    assert message(r) == PLACED
    assert [c.to for c in outbox] == [PHONE]
    assert CallAttempt.objects.get().variables == {"first_name": "Samuel"}


# Bodies


def test_json_body(client, line, outbox):
    r = post_json(
        client,
        {
            "phone": "(617) 523-2338",
            "campaign_line": "+18559299898",
            "name": "Paul Revere",
            "email": "paul.revere@example.org",
            "zip": "02113",
            "data": {"district": "MA-8"},
        },
    )
    assert message(r) == PLACED
    attempt = CallAttempt.objects.get()
    assert (attempt.name, attempt.email) == ("Paul Revere", "paul.revere@example.org")
    assert attempt.variables == {"zip": "02113", "district": "MA-8"}


def test_json_numbers_are_read_like_form_text(client, line, outbox):
    r = post_json(client, {"phone": 6175232338, "campaign_line": 18559299898, "zip": 2113})
    assert message(r) == PLACED
    assert CallAttempt.objects.get().variables == {"zip": "2113"}


def test_urlencoded_body(client, line, outbox):
    r = post_form(client, {**VALID, "name": "Paul", "zip": "02113"})
    assert message(r) == PLACED
    assert CallAttempt.objects.get().variables == {"zip": "02113"}


def test_multipart_body(client, line, outbox):
    r = client.post("/outgoing", {**VALID, "name": "Paul", "zip": "02113"}, format="multipart")
    assert r.request["CONTENT_TYPE"].startswith("multipart/form-data")
    assert message(r) == PLACED
    assert CallAttempt.objects.get().name == "Paul"


def test_text_plain_body_is_key_value_lines(client, line, outbox):
    body = "phone=617.523.2338\r\ncampaign_line=8559299898\r\nname=Paul = Revere\r\nzip=02113\r\n"
    r = client.generic("POST", "/outgoing", body, content_type="text/plain")
    assert message(r) == PLACED
    attempt = CallAttempt.objects.get()
    assert attempt.name == "Paul = Revere"
    assert attempt.variables == {"zip": "02113"}


# Charsets


def test_urlencoded_iso_8859_1(client, line, outbox):
    r = post_form(
        client,
        {**VALID, "name": "José Müller"},
        content_type=f"{FORM}; charset=ISO-8859-1",
        encoding="iso-8859-1",
    )
    assert message(r) == PLACED
    assert CallAttempt.objects.get().name == "José Müller"


def test_json_with_a_charset(client, line, outbox):
    payload = json.dumps({**VALID, "name": "José"}, ensure_ascii=False)
    r = client.generic("POST", "/outgoing", payload.encode("utf-16"), content_type="application/json; charset=utf-16")
    assert message(r) == PLACED
    assert CallAttempt.objects.get().name == "José"


def test_json_with_charset_utf8_uppercase(client, line, outbox):
    payload = json.dumps({**VALID, "name": "Zoë"}, ensure_ascii=False).encode()
    r = client.generic("POST", "/outgoing", payload, content_type="application/json; charset=UTF-8")
    assert message(r) == PLACED
    assert CallAttempt.objects.get().name == "Zoë"


def test_text_plain_with_a_charset(client, line, outbox):
    body = "phone=6175232338\r\ncampaign_line=8559299898\r\nname=Françoise\r\n".encode("iso-8859-1")
    r = client.generic("POST", "/outgoing", body, content_type="text/plain; charset=ISO-8859-1")
    assert message(r) == PLACED
    assert CallAttempt.objects.get().name == "Françoise"


def test_multipart_utf8_text(client, line, outbox):
    r = client.post("/outgoing", {**VALID, "name": "Zoë Ångström"}, format="multipart")
    assert message(r) == PLACED
    assert CallAttempt.objects.get().name == "Zoë Ångström"


# data


def test_data_as_a_json_string(client, line, outbox):
    r = client.get("/outgoing", {**VALID, "data": json.dumps({"district": "MA-8", "count": 3})})
    assert message(r) == PLACED
    assert CallAttempt.objects.get().variables == {"district": "MA-8", "count": 3}


def test_data_as_an_object_in_a_json_body(client, line, outbox):
    r = post_json(client, {**VALID, "data": {"district": "MA-8", "nested": {"a": [1, 2]}}})
    assert message(r) == PLACED
    assert CallAttempt.objects.get().variables == {"district": "MA-8", "nested": {"a": [1, 2]}}


def test_data_as_a_string_in_a_json_body(client, line, outbox):
    r = post_json(client, {**VALID, "data": '{"district": "MA-8"}'})
    assert message(r) == PLACED
    assert CallAttempt.objects.get().variables == {"district": "MA-8"}


@pytest.mark.parametrize(
    "data",
    ["{not json", "[1, 2]", "42", '"text"', "true", "null x", '{"a": NaN}', '{"a": 1e400}', '{"a": "\\u0000"}'],
)
def test_data_of_the_wrong_kind_is_a_format_error(client, line, outbox, data):
    r = client.get("/outgoing", {**VALID, "data": data})
    assert r.status_code == 400 and message(r) == INVALID
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "invalid" and "data" in attempt.error_detail
    assert outbox == []


@pytest.mark.parametrize("data", [[1, 2], 42, True, "[]"])
def test_data_of_the_wrong_kind_in_a_json_body(client, line, outbox, data):
    r = post_json(client, {**VALID, "data": data})
    assert message(r) == INVALID
    assert CallAttempt.objects.get().outcome == "invalid"


def test_data_at_most_4_kib(client, line, outbox):
    def data_of(size: int) -> str:
        text = json.dumps({"k": ""})
        return json.dumps({"k": "x" * (size - len(text))})

    assert len(data_of(4096)) == 4096
    assert message(client.get("/outgoing", {**VALID, "data": data_of(4096)})) == PLACED
    assert message(client.get("/outgoing", {**VALID, "data": data_of(4097)})) == INVALID
    assert message(post_json(client, {**VALID, "data": {"k": "x" * 5000}})) == INVALID
    assert list(CallAttempt.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "placed",
        "invalid",
        "invalid",
    ]


def test_data_counts_multibyte_characters_as_bytes(client, line, outbox):
    data = json.dumps({"k": "é" * 2100}, ensure_ascii=False)  # 2,100 characters, 4,200+ bytes
    assert len(data) < 4096 < len(data.encode())
    assert message(client.get("/outgoing", {**VALID, "data": data})) == INVALID


def test_empty_data_is_absent(client, line, outbox):
    assert message(client.get("/outgoing", {**VALID, "data": "  "})) == PLACED
    assert CallAttempt.objects.get().variables == {}


# Extra parameters, empty strings, white space


def test_extra_parameters_become_variables(client, line, outbox):
    r = client.get("/outgoing", {**VALID, "zip": "02113", "first_name": "Paul", "last_name": "Revere"})
    assert message(r) == PLACED
    assert CallAttempt.objects.get().variables == {"zip": "02113", "first_name": "Paul", "last_name": "Revere"}


def test_jquery_cache_buster_is_not_a_variable(client, line, outbox):
    r = client.get("/outgoing", {**VALID, "zip": "02113", "_": "1700000000000"})
    assert message(r) == PLACED
    assert CallAttempt.objects.get().variables == {"zip": "02113"}


def test_data_keys_join_the_variables(client, line, outbox):
    r = client.get("/outgoing", {**VALID, "zip": "02113", "data": '{"district": "MA-8"}'})
    assert message(r) == PLACED
    assert CallAttempt.objects.get().variables == {"zip": "02113", "district": "MA-8"}


def test_empty_strings_are_absent(client, line, outbox):
    r = client.get(
        "/outgoing",
        {**VALID, "name": "", "email": "", "zip": "", "revmsghtml": "", "callback": "", "data": "", "CallerID": ""},
    )
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    assert message(r) == PLACED
    attempt = CallAttempt.objects.get()
    assert (attempt.name, attempt.email, attempt.variables) == ("", "", {})


def test_white_space_is_trimmed(client, line, outbox):
    r = client.get(
        "/outgoing",
        {
            "phone": "  617 523 2338 \t",
            "campaign_line": " 8559299898 ",
            "name": "  Paul Revere \n",
            "email": " paul@example.org ",
            "zip": " 02113 ",
        },
    )
    assert message(r) == PLACED
    attempt = CallAttempt.objects.get()
    assert (attempt.name, attempt.email, attempt.variables) == ("Paul Revere", "paul@example.org", {"zip": "02113"})


def test_white_space_only_counts_as_absent(client, line, outbox):
    r = client.get("/outgoing", {"phone": "   ", "campaign_line": LINE})
    assert message(r) == INVALID
    assert "phone: missing" in CallAttempt.objects.get().error_detail


# name, email


def test_name_at_most_255_characters(client, line, outbox):
    assert message(client.get("/outgoing", {**VALID, "name": "n" * 255})) == PLACED
    assert message(client.get("/outgoing", {**VALID, "name": "n" * 256})) == INVALID
    assert list(CallAttempt.objects.order_by("pk").values_list("outcome", flat=True)) == ["placed", "invalid"]


@pytest.mark.parametrize(
    "email", ["not-an-address", "paul@", "@example.org", "paul@exa mple.org", "a" * 250 + "@x.org"]
)
def test_invalid_email_is_a_format_error(client, line, outbox, email):
    r = client.get("/outgoing", {**VALID, "email": email})
    assert message(r) == INVALID
    assert "email" in CallAttempt.objects.get().error_detail
    assert outbox == []


def test_valid_email_is_kept(client, line, outbox):
    assert message(client.get("/outgoing", {**VALID, "email": "paul.revere+ctc@example.org"})) == PLACED
    assert CallAttempt.objects.get().email == "paul.revere+ctc@example.org"


# revmsghtml


@pytest.mark.parametrize(
    "url", ["/thanks", "thanks.html", "javascript:alert(1)", "ftp://example.org/x", "http://", "http://[::1/x"]
)
def test_revmsghtml_must_be_an_absolute_http_url(client, line, outbox, url):
    r = client.get("/outgoing", {**VALID, "revmsghtml": url})
    assert r.status_code == 400 and message(r) == INVALID
    assert "revmsghtml" in CallAttempt.objects.get().error_detail


def test_nul_characters_are_a_format_error_and_the_attempt_is_kept(client, line, outbox):
    r = client.get("/outgoing", {**VALID, "name": "Paul\x00Revere", "zip": "02\x00113"})
    assert message(r) == INVALID
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "invalid"
    assert attempt.submitted["name"] == "Paul\ufffdRevere"
    assert "\x00" not in attempt.error_detail


def test_multipart_built_by_hand(client, line, outbox):
    boundary = "BoUnDaRy"
    body = encode_multipart(boundary, {**VALID, "zip": "02113"})
    r = client.generic("POST", "/outgoing", body, content_type=f"multipart/form-data; boundary={boundary}")
    assert message(r) == PLACED
    assert CallAttempt.objects.get().variables == {"zip": "02113"}
