"""No request to /outgoing produces a 500: garbage gets the contract's format error, recorded when the line is known."""

from __future__ import annotations

import io
import json
import logging
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test.client import encode_multipart

from clicktocall.headers import parsable
from clicktocall.models import CallAttempt

from .contract import ERROR, INVALID, LINE, PLACED, VALID, message

pytestmark = pytest.mark.django_db

QUERY = "/outgoing?campaign_line=8559299898"  # the line is known; the body is the garbage
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def no_unexpected_errors(caplog):
    """Fails the test if the view had to fall back on its catch-all (an unexpected exception)."""
    with caplog.at_level(logging.ERROR, logger="clicktocall"):
        yield
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


BODIES = [
    pytest.param(b"{bad", "application/json", id="malformed-json"),
    pytest.param(b'[{"phone": "6175232338"}]', "application/json", id="json-array"),
    pytest.param(b'"6175232338"', "application/json", id="json-string"),
    pytest.param(b"null", "application/json", id="json-null"),
    pytest.param(b"", "application/json", id="json-empty"),
    pytest.param(b'{"phone": NaN}', "application/json", id="json-nan"),
    pytest.param(b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json", id="json-deep"),
    pytest.param(b'{"phone": "\xff\xfe"}', "application/json", id="json-not-utf8"),
    pytest.param(b'{"phone": {"nested": 1}}', "application/json", id="json-object-for-phone"),
    pytest.param(b'{"phone": ["6175232338"]}', "application/json", id="json-list-for-phone"),
    pytest.param(b"phone=\xff\xfe\xfd", FORM, id="form-not-utf8"),
    pytest.param(b"phone=%FF%FE", FORM, id="form-percent-not-utf8"),
    pytest.param(b"phone=\xff\r\nname=\x00", "text/plain", id="text-plain-not-utf8"),
    pytest.param(b"phone=1", "multipart/form-data", id="multipart-without-boundary"),
    pytest.param(
        b"--b\r\nContent-Disposition: form-data; name=", "multipart/form-data; boundary=b", id="multipart-cut"
    ),
    pytest.param(b"phone=1", "multipart/form-data; boundary=\xe9", id="multipart-bad-boundary"),
    pytest.param(b"phone=6175232338", "a/b/c", id="content-type-nonsense"),
    pytest.param(b"phone=6175232338", ";;;", id="content-type-semicolons"),
    pytest.param(b"phone=6175232338", "application/octet-stream", id="content-type-octet-stream"),
    pytest.param(b"phone=" + b"1" * 3_000_000, FORM, id="body-too-big"),
    pytest.param("&".join(f"k{i}=v" for i in range(1500)).encode(), FORM, id="too-many-fields"),
    pytest.param(b"phone=6175232338&name=" + b"n" * 100_000, FORM, id="huge-name"),
    pytest.param(b"phone=6175232338&" + b"&".join(b"v%d=x" % i for i in range(60)), FORM, id="too-many-variables"),
    pytest.param(b"phone=6175232338&" + b"k" * 100 + b"=v", FORM, id="huge-variable-name"),
    pytest.param(b"phone=6175232338&zip=" + b"9" * 2000, FORM, id="huge-variable"),
]


@pytest.mark.parametrize("body,content_type", BODIES)
def test_garbage_body_is_a_recorded_format_error(client, line, outbox, no_unexpected_errors, body, content_type):
    r = client.generic("POST", QUERY, body, content_type=content_type)
    assert r.status_code == 400
    assert r["Content-Type"] == "application/json"
    assert message(r) == INVALID
    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "invalid" and attempt.error_detail
    assert outbox == []


def test_binary_file_for_phone(client, line, outbox, no_unexpected_errors):
    upload = SimpleUploadedFile("phone.bin", bytes(range(256)) * 4, content_type="application/octet-stream")
    r = client.post("/outgoing", {"campaign_line": LINE, "phone": upload}, format="multipart")
    assert message(r) == INVALID
    attempt = CallAttempt.objects.get()
    assert attempt.submitted["phone"] == "<file phone.bin>"
    assert "phone: must be text" in attempt.error_detail


def test_non_utf8_multipart_field(client, line, outbox, no_unexpected_errors):
    body = encode_multipart("b", {"campaign_line": LINE, "phone": "6175232338"}).replace(b"6175232338", b"\xff\xfe")
    r = client.generic("POST", "/outgoing", body, content_type="multipart/form-data; boundary=b")
    assert message(r) == INVALID


def test_non_utf8_query_string(client, line, outbox, no_unexpected_errors):
    r = client.get("/outgoing?phone=617%FF5232338&campaign_line=8559299898&name=%E9")
    assert message(r) == INVALID
    assert CallAttempt.objects.get().outcome == "invalid"


def test_unknown_charset_is_ignored(client, line, outbox, no_unexpected_errors):
    body = "phone=6175232338&campaign_line=8559299898"
    r = client.generic("POST", "/outgoing", body, content_type=f"{FORM}; charset=x-bogus")
    assert message(r) == PLACED


@pytest.mark.parametrize(
    "accept",
    ["text/html;q=abc", ";;", "*/*;q=-1", "text/html;q=1e400", "/", "text/", "*/*;" * 1000, "\u00e9/\u00e9", "a/b;q="],
)
def test_bad_accept_header(client, line, outbox, no_unexpected_errors, accept):
    r = client.get("/outgoing", VALID, HTTP_ACCEPT=accept)
    assert r.status_code == 200
    assert r["Content-Type"] in ("application/json", "text/html; charset=utf-8")
    assert len(outbox) == 1


@pytest.mark.parametrize("origin", ["http://[::1", "null", "://", "x" * 5000, "http://\u00e9\u00e9.test"])
def test_bad_origin_and_referer(client, line, outbox, no_unexpected_errors, origin):
    fields = {**VALID, "revmsghtml": "https://www.example.org/thanks"}
    r = client.post("/outgoing", fields, format="multipart", HTTP_ORIGIN=origin, HTTP_REFERER=origin)
    assert r.status_code == 200  # not a 302: the submitting page's host is unknown
    assert "Location" not in r


def test_nul_in_headers_is_stored_safely(client, line, outbox, no_unexpected_errors):
    r = client.get("/outgoing", VALID, HTTP_USER_AGENT="agent\x00x", HTTP_REFERER="https://a.test/\x00")
    assert message(r) == PLACED
    attempt = CallAttempt.objects.get()
    assert attempt.user_agent == "agent\ufffdx" and "\x00" not in attempt.referrer


def test_huge_json_body_fields(client, line, outbox, no_unexpected_errors):
    payload = {**VALID, "name": "n" * 300_000, "zip": {"a": 1}}
    r = client.generic("POST", "/outgoing", json.dumps(payload), content_type="application/json")
    assert message(r) == INVALID
    attempt = CallAttempt.objects.get()
    assert len(attempt.submitted["name"]) < 3000  # the raw value is kept, bounded


# At the WSGI level: Django parses Content-Type while building the request, before any view.


@pytest.fixture
def wsgi_call():
    """Call the project's WSGI application as a server would (and as the test client does, keep the test's
    database connection open across the request signals)."""
    from project.wsgi import application

    def call(content_type: str, body: bytes, path: str = "/outgoing", query: str = "") -> tuple[str, dict, bytes]:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "localhost",
            "wsgi.input": io.BytesIO(body),
        }
        setup_testing_defaults(environ)
        seen: dict = {}

        def start_response(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, dict(headers)

        chunks = application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return seen["status"], seen["headers"], content

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield call
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


UNPARSABLE = [
    pytest.param("text/plain; charset*=bogus''x", id="rfc2231-unknown-charset"),
    pytest.param(f"{FORM}; a=" + "x" * 10_001, id="over-10000-characters"),
    pytest.param(f"{FORM}; charset=utf\x00-8", id="nul-in-charset"),
    pytest.param("text/plain; charset=rot13", id="charset-rot13"),
    pytest.param("text/plain; charset=hex", id="charset-hex"),
    pytest.param(f"{FORM}; charset=uu_codec", id="charset-uu-codec"),
    pytest.param("application/json; charset=base64", id="charset-base64"),
]


@pytest.mark.parametrize("content_type", UNPARSABLE)
def test_unparsable_content_type_at_the_wsgi_level(wsgi_call, line, outbox, content_type):
    assert not parsable(content_type)
    status, headers, content = wsgi_call(content_type, b"phone=6175232338", query="campaign_line=8559299898")
    assert status.startswith("400")
    assert headers["Content-Type"] == "application/json"
    assert json.loads(content) == {"error": True, "message": INVALID}
    assert CallAttempt.objects.get().outcome == "invalid"


def test_unparsable_content_type_elsewhere_is_no_500(wsgi_call, db):
    status, headers, content = wsgi_call(UNPARSABLE[0].values[0], b"username=a&password=b", path="/admin/login/")
    assert not status.startswith("5")


def test_wsgi_application_places_calls(wsgi_call, line, outbox):
    status, headers, content = wsgi_call(f"{FORM}; charset=utf-8", b"phone=6175232338&campaign_line=8559299898")
    assert status.startswith("200") and json.loads(content)["message"] == PLACED
    assert [c.to for c in outbox] == ["+16175232338"]


def test_asgi_guard_rewrites_only_unparsable_content_types():
    import asyncio

    from clicktocall.headers import INVALID_CONTENT_TYPE, ASGIContentTypeGuard

    seen = []

    async def app(scope, receive, send):
        seen.append(dict(scope["headers"]))

    guard = ASGIContentTypeGuard(app)
    for value in [b"text/plain; charset*=bogus''x", b"application/json; charset=utf-8"]:
        asyncio.run(guard({"type": "http", "headers": [(b"content-type", value), (b"accept", b"*/*")]}, None, None))
    assert seen == [
        {b"content-type": INVALID_CONTENT_TYPE.encode(), b"accept": b"*/*"},
        {b"content-type": b"application/json; charset=utf-8", b"accept": b"*/*"},
    ]


def test_too_many_query_fields(client, line, outbox, no_unexpected_errors):
    many = "&".join(f"k{i}=v" for i in range(1500))
    r = client.get(f"/outgoing?campaign_line=8559299898&phone=6175232338&{many}")
    assert r.status_code == 400 and message(r) == INVALID
    assert outbox == []


@pytest.mark.parametrize("kind", ["json", "multipart", "text"])
def test_bodies_larger_than_django_allows_are_not_read(client, line, outbox, no_unexpected_errors, settings, kind):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    pad = "x" * 20_000
    if kind == "json":
        body = json.dumps({"phone": "6175232338", "pad": pad})
        r = client.generic("POST", QUERY, body, content_type="application/json")
    elif kind == "multipart":
        upload = SimpleUploadedFile("big.bin", pad.encode())
        r = client.post(QUERY, {"phone": "6175232338", "file": upload}, format="multipart")
    else:
        r = client.generic("POST", QUERY, f"phone=6175232338\r\npad={pad}\r\n", content_type="text/plain")
    assert message(r) == INVALID
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in CallAttempt.objects.get().error_detail
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    body = json.dumps({"phone": "6175232338", "zip": "02113"})
    assert message(client.generic("POST", QUERY, body, content_type="application/json")) == PLACED


@pytest.mark.parametrize("path", ["/outgoing", "/outgoing/"])
def test_a_host_not_in_allowed_hosts_gets_the_json_error(client, line, outbox, settings, path):
    settings.ALLOWED_HOSTS = ["calls.example.org"]
    r = client.post(
        f"{path}?campaign_line=8559299898", {"phone": "6175232338"}, HTTP_HOST="evil.example", HTTP_ACCEPT="*/*"
    )
    assert r.status_code == 400 and r["Content-Type"] == "application/json"
    assert json.loads(r.content) == {"error": True, "message": ERROR}
    assert outbox == [] and not CallAttempt.objects.exists()


def test_a_host_not_in_allowed_hosts_elsewhere_gets_djangos_page(client, settings):
    settings.ALLOWED_HOSTS = ["calls.example.org"]
    r = client.get("/api/", HTTP_HOST="evil.example")
    assert r.status_code == 400 and r["Content-Type"].startswith("text/html")
