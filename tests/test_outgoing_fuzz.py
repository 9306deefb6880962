"""Random requests to /outgoing: always one of the contract's answers, never the catch-all, at most one attempt."""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import quote_from_bytes, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clicktocall.models import CallAttempt

from .contract import ERROR, INVALID, PLACED, UNCONFIGURED

pytestmark = pytest.mark.django_db

MESSAGES = {PLACED, INVALID, UNCONFIGURED, ERROR}
KEYS = ["phone", "CallerID", "campaign_line", "name", "email", "data", "revmsghtml", "callback", "zip", "_"]
VALUES = st.one_of(
    st.sampled_from(
        [
            "6175232338",
            "(617) 523-2338",
            "8559299898",
            "+18559299898",
            "2025550143",
            "paul@example.org",
            '{"a": 1}',
            "[1]",
            "https://www.example.org/thanks",
            "cb",
            "a.b",
            "",
            " ",
        ]
    ),
    st.text(max_size=40),
)
PARAMS = st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), VALUES, max_size=8)
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=ISO-8859-1",
            "application/json",
            "application/json; charset=utf-16",
            "text/plain",
            "text/html",
            "multipart/form-data; boundary=b",
            "",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
)
ACCEPTS = st.one_of(
    st.sampled_from(["", "*/*", "application/json", "text/html", "text/html,*/*;q=0.8", "application/json;q=0.1"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
)


def encode(params: dict, content_type: str) -> bytes:
    media = content_type.split(";")[0].strip()
    if media == "application/json":
        return json.dumps(params).encode("utf-16" if "utf-16" in content_type else "utf-8")
    if media in ("text/plain", "text/html"):
        return "".join(f"{k}={v}\r\n" for k, v in params.items()).encode()
    if media == "multipart/form-data":
        parts = [f'--b\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in params.items()]
        return ("".join(parts) + "--b--\r\n").encode()
    return urlencode(params).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST"]),
    query=PARAMS,
    body=st.one_of(PARAMS, st.binary(max_size=200)),
    content_type=CONTENT_TYPES,
    accept=ACCEPTS,
    origin=st.sampled_from(["", "https://www.example.org", "null", "http://[::1"]),
)
def test_random_requests_get_a_contract_answer(
    client, line, outbox, caplog, method, query, body, content_type, accept, origin
):
    raw = body if isinstance(body, bytes) else encode(body, content_type)
    path = "/outgoing?" + "&".join(
        f"{quote_from_bytes(k.encode())}={quote_from_bytes(v.encode())}" for k, v in query.items()
    )
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    if origin:
        headers["HTTP_ORIGIN"] = origin
    before = CallAttempt.objects.count()
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="clicktocall"):
        if method == "GET":
            r = client.get(path, **headers)
        else:
            r = client.generic("POST", path, raw, content_type=content_type, **headers)

    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR], caplog.text
    assert CallAttempt.objects.count() - before in (0, 1)
    assert r.status_code in (200, 302, 400), r.content
    if r.status_code == 302:
        assert r["Location"].startswith(("http://", "https://"))
        return
    content_type_out = r["Content-Type"]
    if content_type_out == "application/json":
        body_out = json.loads(r.content)
        assert set(body_out) == {"error", "message"} and body_out["message"] in MESSAGES
        assert (r.status_code == 200) == (body_out["message"] == PLACED)
    elif content_type_out == "application/javascript; charset=utf-8":
        assert r.status_code == 200 and r["X-Content-Type-Options"] == "nosniff"
        match = re.fullmatch(r"/\*\*/([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\((.*)\);", r.content.decode())
        assert match and json.loads(match.group(2))["message"] in MESSAGES
    else:
        assert content_type_out == "text/html; charset=utf-8"
        assert b'id="message"' in r.content
