"""Fuzzing /outgoing: schemathesis against the OpenAPI schema, hypothesis on the parameter parser.

Whatever arrives, no answer is a 500 and every answer carries the contract's body:
``{"error": bool, "message": one of the five messages}`` (as JSON, inside JSONP, or on
the HTML page), or is a redirect.
"""

from __future__ import annotations

import json
import re
import string
from urllib.parse import urlencode

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clicktocall.models import BlockEntry, CallAttempt
from clicktocall.outgoing import params as parameters
from clicktocall.outgoing.schema import MESSAGES

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
JSONP_RE = re.compile(r"^/\*\*/[A-Za-z_$][0-9A-Za-z_$.]*\((?P<payload>.*)\);$", re.S)


def assert_contract_body(status: int, content_type: str, body: bytes, location: str | None = None) -> str | None:
    """Check an answer against the contract; the message it carries (None for a redirect)."""
    assert status != 500 and status < 500, body[:500]
    if status == 302:
        assert location and location.startswith(("http://", "https://"))
        return None
    media = content_type.split(";")[0].strip()
    text = body.decode("utf-8")
    if media == "application/json":
        payload = json.loads(text)
    elif media == "application/javascript":
        assert status == 200
        match = JSONP_RE.match(text)
        assert match, text[:200]
        payload = json.loads(match["payload"])
    elif media == "text/html":
        assert "Traceback" not in text
        messages = [m for m in MESSAGES if m.replace("'", "&#x27;") in text or m in text]
        assert len(messages) == 1, text[:500]
        return messages[0]
    else:
        raise AssertionError(f"unexpected content type {content_type!r}")
    assert set(payload) == {"error", "message"}, payload
    assert isinstance(payload["error"], bool) and payload["message"] in MESSAGES
    assert payload["error"] is (payload["message"] != MESSAGES[0])
    assert (status == 200) == (not payload["error"]) or media == "application/javascript"
    return payload["message"]


CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
schema = schemathesis.openapi.from_wsgi(reverse("clicktocall:schema"), get_wsgi_application())


@schema.include(path_regex="^/outgoing").parametrize()
@FUZZ
def test_schemathesis_outgoing(case, line, outbox, limits):
    response = case.call()
    header = {name.lower(): values for name, values in response.headers.items()}
    if case.method.upper() == "OPTIONS":  # the CORS preflight
        assert response.status_code == 200 and header["allow"] == ["GET, POST, OPTIONS"]
        return
    content_type = (header.get("content-type") or [""])[0]
    location = (header.get("location") or [None])[0]
    assert_contract_body(response.status_code, content_type, response.content, location)
    if case.method.upper() not in ("GET", "POST"):
        assert response.status_code == 405
        return
    # The contract answers 400 to input the schema cannot rule out (a string that is no
    # phone number), so "schema-valid data is accepted" does not apply; the rest does.
    case.validate_response(response, checks=CONFORMANCE)


def test_schema_is_served_and_describes_outgoing(client):
    r = client.get(reverse("clicktocall:schema"), {"format": "json"})
    assert r.status_code == 200
    document = r.json()
    operations = document["paths"]["/outgoing"]
    assert set(operations) == {"get", "post"}
    assert set(operations["post"]["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    assert {p["name"] for p in operations["get"]["parameters"]} >= {"phone", "campaign_line", "callback", "data"}
    result = document["components"]["schemas"]["OutgoingResult"]
    assert result["required"] == ["error", "message"]
    assert result["properties"]["error"]["type"] == "boolean"
    assert result["properties"]["message"]["enum"] == MESSAGES
    # The provider's webhooks stay out of the public document; the results API is in it.
    assert [path for path in document["paths"] if not path.startswith("/api/v1/")] == ["/outgoing"]


@schema.include(path_regex="^/api/v1/").parametrize()
@FUZZ
def test_schemathesis_results_api(case, line, api_token, keep_connection):
    """Whatever a token holder sends, the API answers as its schema says, never with a 500."""
    CallAttempt.objects.get_or_create(line=line, phone="+16175232338", defaults={"outcome": "placed"})
    for headers in ({"Authorization": f"Bearer {api_token}"}, {}):
        response = case.call(headers=headers)
        assert response.status_code < 500, response.content[:500]
        case.validate_response(response, checks=CONFORMANCE)


@pytest.fixture
def keep_connection():
    """The WSGI handler closes the database connection after each request, and with it the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_token(db):
    from clicktocall.api.models import ApiToken

    user = User.objects.create_superuser("fuzz", password="pw")
    token = ApiToken(user=user, name="fuzz")
    key = token.issue()
    token.save()
    return key


# Hypothesis on the parameter parser

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80)
phone_like = st.one_of(
    st.from_regex(r"\A\+?1?[ .(-]{0,2}[2-9]\d{2}[ .)-]{0,2}\d{3}[ .-]?\d{4}\Z"),
    st.text(alphabet=string.digits + "+()-. ", max_size=24),
    text,
)
known = st.sampled_from(
    ["8559299898", "+18559299898", "(617) 523-2338", "617-523-0001", "+447400123456", "+19002345678", ""]
)
values = st.one_of(
    known,
    text,
    phone_like,
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
)
keys = st.one_of(
    st.sampled_from(["phone", "CallerID", "campaign_line", "name", "email", "data", "revmsghtml", "callback", "zip"]),
    st.text(max_size=20),
)
anything = st.dictionaries(keys, values, max_size=12)
small_objects = st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3)
plausible = st.fixed_dictionaries(
    {
        "phone": st.one_of(
            st.sampled_from(["(617) 523-2338", "617-523-0001", "+447400123456", "+19002345678"]), phone_like
        ),
        "campaign_line": st.one_of(st.sampled_from(["8559299898", "+18559299898", "1 855 929 9898"]), phone_like),
    },
    optional={
        "name": values,
        "email": st.one_of(st.emails(), text),
        "data": st.one_of(small_objects.map(json.dumps), values),
        "revmsghtml": st.one_of(st.sampled_from(["https://www.example.org/thanks", "javascript:alert(1)"]), text),
        "callback": st.one_of(st.from_regex(r"\A[A-Za-z_$][0-9A-Za-z_$]{0,10}\Z"), text),
        "zip": values,
    },
)
submissions = st.one_of(plausible, anything, st.builds(lambda extra, base: {**extra, **base}, anything, plausible))


@given(submitted=submissions, body_problem=st.one_of(st.none(), text))
@FUZZ
def test_parser_never_raises_and_reports_every_problem(submitted, body_problem):
    p = parameters.validate(submitted, body_problem)
    assert json.dumps(p.submitted)  # storable as it is
    assert json.dumps(p.variables)
    assert all(isinstance(v, str) for v in p.problems.values())
    if p.valid:
        assert p.phone.startswith("+") and p.campaign_line.startswith("+")
        assert len(p.name) <= parameters.NAME_MAX
        assert p.callback == "" or parameters.CALLBACK_RE.match(p.callback)
    if p.callback:
        assert parameters.CALLBACK_RE.match(p.callback) and len(p.callback) <= parameters.CALLBACK_MAX
    if p.revmsghtml:
        assert p.revmsghtml.startswith(("http://", "https://"))


def _form_value(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@given(
    submitted=submissions,
    how=st.sampled_from(["get", "form", "json", "multipart", "text"]),
    accept=st.sampled_from(["", "*/*", "application/json", "text/html", "text/html,application/json;q=0.9"]),
)
@FUZZ
def test_outgoing_answers_the_contract_for_any_input(client, line, outbox, limits, submitted, how, accept):
    BlockEntry.objects.get_or_create(kind="phone", value="+16175230001")
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    calls_before = len(outbox)
    flat = {k: _form_value(v) for k, v in submitted.items()}
    if how == "get":
        r = client.get("/outgoing", flat, **headers)
    elif how == "form":
        r = client.generic("POST", "/outgoing", urlencode(flat), "application/x-www-form-urlencoded", **headers)
    elif how == "json":
        r = client.generic("POST", "/outgoing", json.dumps(submitted), "application/json", **headers)
    elif how == "multipart":
        r = client.post("/outgoing", {k: v for k, v in flat.items() if k}, **headers)
    else:
        body = "\r\n".join(f"{k}={v}" for k, v in flat.items())
        r = client.generic("POST", "/outgoing", body.encode(), "text/plain; charset=utf-8", **headers)
    message = assert_contract_body(r.status_code, r.get("Content-Type", ""), r.content, r.get("Location"))
    event(f"{how}: {r.status_code} {message}")
    if message is not None:
        assert len(outbox) == calls_before + (message == MESSAGES[0])
