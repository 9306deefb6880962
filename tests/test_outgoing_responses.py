"""How /outgoing answers: redirect, JSONP, JSON or HTML; the route, methods, CSRF and CORS."""

from __future__ import annotations

import html
import json
import logging
from urllib.parse import urlencode, urlsplit

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils.cache import add_never_cache_headers
from django.utils.http import parse_http_date

from clicktocall import guards
from clicktocall.calls import Outcome
from clicktocall.exceptions import TelephonyError
from clicktocall.models import CallAttempt

from .contract import ERROR, INVALID, LINE, PLACED, THROTTLED, UNCONFIGURED, VALID, jsonp_payload, message

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
THANKS = "https://www.example.org/thanks?campaign=1"
PAGE = "https://www.example.org/take-action/"
ORIGIN = "https://www.example.org"


def form_post(client, fields: dict, content_type: str = FORM, accept: str = BROWSER_ACCEPT, **headers):
    if content_type.startswith("multipart/"):
        return client.post("/outgoing/", fields, HTTP_ACCEPT=accept, **headers)
    if content_type.startswith(("text/plain", "text/html")):
        body = "".join(f"{k}={v}\r\n" for k, v in fields.items())
    else:
        body = urlencode(fields)
    return client.generic("POST", "/outgoing/", body, content_type=content_type, HTTP_ACCEPT=accept, **headers)


# The outcomes each case leads to, set up on a fresh line.


def _placed(line, failures, monkeypatch):
    return dict(VALID)


def _invalid(line, failures, monkeypatch):
    return {"campaign_line": "8559299898", "phone": "12"}


def _unknown_line(line, failures, monkeypatch):
    return {"campaign_line": "2025550143", "phone": "6175232338"}


def _inactive_line(line, failures, monkeypatch):
    line.is_active = False
    line.save()
    return dict(VALID)


def _throttled(line, failures, monkeypatch):
    monkeypatch.setattr(
        guards, "admit", lambda *a: guards.Refusal(Outcome.THROTTLED, "throttled", "cooldown", retry_after=30)
    )
    return dict(VALID)


def _provider_error(line, failures, monkeypatch):
    failures.append(TelephonyError("Twilio unreachable"))
    return dict(VALID)


OUTCOMES = [
    pytest.param(_placed, 200, PLACED, id="placed"),
    pytest.param(_invalid, 400, INVALID, id="invalid"),
    pytest.param(_unknown_line, 400, UNCONFIGURED, id="unknown-line"),
    pytest.param(_inactive_line, 400, UNCONFIGURED, id="inactive-line"),
    pytest.param(_throttled, 400, THROTTLED, id="throttled"),
    pytest.param(_provider_error, 400, ERROR, id="provider-error"),
]


# 1. Redirect


@pytest.mark.parametrize("setup,status,expected", OUTCOMES)
def test_form_post_redirects_whatever_the_outcome(client, line, failures, monkeypatch, setup, status, expected):
    fields = setup(line, failures, monkeypatch)
    r = form_post(client, {**fields, "revmsghtml": THANKS}, HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 302
    assert r["Location"] == THANKS


@pytest.mark.parametrize("setup,status,expected", OUTCOMES)
def test_each_outcome_as_json(client, line, failures, monkeypatch, setup, status, expected):
    fields = setup(line, failures, monkeypatch)
    r = client.get("/outgoing", fields)
    assert r.status_code == status and message(r) == expected
    assert r["Content-Type"] == "application/json"


@pytest.mark.parametrize("setup,status,expected", OUTCOMES)
def test_each_outcome_as_jsonp_is_status_200(client, line, failures, monkeypatch, setup, status, expected):
    fields = setup(line, failures, monkeypatch)
    r = client.get("/outgoing", {**fields, "callback": "handle"})
    assert r.status_code == 200
    assert jsonp_payload(r, "handle") == {"error": expected != PLACED, "message": expected}


@pytest.mark.parametrize("setup,status,expected", OUTCOMES)
def test_each_outcome_as_html(client, line, failures, monkeypatch, setup, status, expected):
    fields = setup(line, failures, monkeypatch)
    r = form_post(client, fields)  # a browser form without revmsghtml
    assert r.status_code == status
    assert r["Content-Type"] == "text/html; charset=utf-8"
    assert expected in html.unescape(r.content.decode())


def test_throttled_answer_carries_retry_after(client, line, failures, monkeypatch):
    fields = _throttled(line, failures, monkeypatch)
    r = client.get("/outgoing", fields)
    assert r["Retry-After"] == "30"


@pytest.mark.parametrize(
    "content_type", [FORM, f"{FORM}; charset=UTF-8", "multipart/form-data", "text/plain", "text/html; charset=utf-8"]
)
def test_each_browser_form_content_type_redirects(client, line, outbox, content_type):
    r = form_post(client, {**VALID, "revmsghtml": THANKS}, content_type=content_type, HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 302 and r["Location"] == THANKS
    assert len(outbox) == 1


def test_form_post_with_any_accept_redirects(client, line, outbox):
    r = form_post(client, {**VALID, "revmsghtml": THANKS}, accept="*/*", HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 302


def test_get_without_body_preferring_html_redirects(client, line, outbox):
    r = client.get("/outgoing", {**VALID, "revmsghtml": THANKS}, HTTP_ACCEPT=BROWSER_ACCEPT, HTTP_REFERER=PAGE)
    assert r.status_code == 302 and r["Location"] == THANKS


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_get_from_a_script_does_not_redirect(client, line, outbox, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    r = client.get("/outgoing", {**VALID, "revmsghtml": THANKS}, HTTP_ORIGIN=ORIGIN, **headers)
    assert r.status_code == 200 and message(r) == PLACED


@pytest.mark.parametrize(
    "accept",
    ["application/json", "application/json, text/javascript, */*; q=0.01", "application/json, text/html;q=0.5"],
)
def test_no_redirect_when_accept_prefers_json(client, line, outbox, accept):
    r = form_post(client, {**VALID, "revmsghtml": THANKS}, accept=accept, HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    assert message(r) == PLACED


def test_json_body_is_not_a_form(client, line, outbox):
    r = client.generic(
        "POST",
        "/outgoing",
        json.dumps({**VALID, "revmsghtml": THANKS}),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCEPT=BROWSER_ACCEPT,
    )
    assert r.status_code == 200 and "Your call is on its way" in r.content.decode()


def test_empty_revmsghtml_shows_the_html_page(client, line, outbox):
    r = form_post(client, {**VALID, "revmsghtml": ""}, HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/html")
    assert PLACED in html.unescape(r.content.decode())
    assert len(outbox) == 1


def test_redirect_allowed_by_origin(client, line, outbox):
    r = form_post(client, {**VALID, "revmsghtml": THANKS}, HTTP_ORIGIN=ORIGIN, HTTP_REFERER="https://other.test/")
    assert r.status_code == 302


def test_redirect_allowed_by_referer_without_origin(client, line, outbox):
    r = form_post(client, {**VALID, "revmsghtml": THANKS}, HTTP_REFERER=PAGE)
    assert r.status_code == 302


def test_origin_null_falls_back_to_referer(client, line, outbox):
    r = form_post(client, {**VALID, "revmsghtml": THANKS}, HTTP_ORIGIN="null", HTTP_REFERER=PAGE)
    assert r.status_code == 302


def test_redirect_allowed_by_the_lines_hosts(client, line, outbox):
    line.redirect_hosts = "thanks.example.net\n.example.com"
    line.save()
    for url in ["https://thanks.example.net/done", "https://www.example.com/", "http://example.com/x"]:
        r = form_post(client, {**VALID, "revmsghtml": url}, HTTP_ORIGIN="https://campaign.test")
        assert (r.status_code, r["Location"]) == (302, url)


def test_redirect_allowed_by_settings(client, line, outbox, settings):
    settings.CLICKTOCALL_REDIRECT_HOSTS = ["thanks.example.net"]
    r = form_post(client, {**VALID, "revmsghtml": "https://thanks.example.net/"}, HTTP_ORIGIN="https://campaign.test")
    assert r.status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.test/phish",
        "https://www.example.org.evil.test/",
        "https://evil.test/?www.example.org",
        "https://www.example.org@evil.test/",
    ],
)
def test_no_redirect_to_a_host_not_allowed(client, line, outbox, caplog, url):
    line.redirect_hosts = "thanks.example.net"
    line.save()
    with caplog.at_level(logging.WARNING, logger="clicktocall.outgoing"):
        r = form_post(client, {**VALID, "revmsghtml": url}, HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 200 and "Location" not in r
    assert r["Content-Type"].startswith("text/html")
    assert PLACED in html.unescape(r.content.decode())
    assert "refused to redirect" in caplog.text and "evil.test" in caplog.text
    assert len(outbox) == 1  # the call itself is placed


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.test\\@www.example.org/",
        "https://evil.test\\\\@www.example.org/",
        "https://evil.test%5C@www.example.org/",
        "https://evil.test\t@www.example.org/",
        "https://evil.test#@www.example.org/",
        "https://evil.test?@www.example.org/",
        "https://www.example.org\\.evil.test/",
        "https://www.example.org:443@evil.test/",
        "https://www.example.org%2F@evil.test/",
        "https://www.example.org/x\r\nLocation: https://evil.test/",
    ],
)
def test_tricky_urls_never_send_a_browser_elsewhere(client, line, outbox, url):
    """Parsers disagree on backslashes, user info and control characters; the Location
    header a browser follows must still lead to the allowed host."""
    r = form_post(client, {**VALID, "revmsghtml": url}, HTTP_ORIGIN=ORIGIN)
    if r.status_code == 302:
        location = r["Location"]
        assert not set(location) & set("\\\t\r\n ")
        assert urlsplit(location).hostname == "www.example.org"
    else:
        assert "Location" not in r


def test_international_host_names_match_the_origin(client, line, outbox, settings):
    r = form_post(
        client, {**VALID, "revmsghtml": "https://bücher.example/danke"}, HTTP_ORIGIN="https://xn--bcher-kva.example"
    )
    assert r.status_code == 302 and r["Location"] == "https://b%C3%BCcher.example/danke"
    settings.CLICKTOCALL_REDIRECT_HOSTS = ["bücher.example"]
    r = form_post(
        client, {**VALID, "revmsghtml": "https://xn--bcher-kva.example/"}, HTTP_ORIGIN="https://campaign.test"
    )
    assert r.status_code == 302


def test_no_redirect_without_any_page_host(client, line, outbox):
    r = form_post(client, {**VALID, "revmsghtml": THANKS})
    assert r.status_code == 200 and "Location" not in r


def test_refused_redirect_keeps_the_error_status(client, line, outbox):
    r = form_post(client, {"phone": "12", "campaign_line": LINE, "revmsghtml": "https://evil.test/"})
    assert r.status_code == 400 and INVALID in html.unescape(r.content.decode())


def test_callback_takes_precedence_over_revmsghtml(client, line, outbox):
    r = form_post(client, {**VALID, "revmsghtml": THANKS, "callback": "cb"}, HTTP_ORIGIN=ORIGIN)
    assert r.status_code == 200
    assert jsonp_payload(r, "cb") == {"error": False, "message": PLACED}


# 2. JSONP


@pytest.mark.parametrize("callback", ["cb", "jQuery37100123456789_1700000000000", "$", "_", "ns.sub.cb", "a" * 128])
def test_jsonp(client, line, outbox, callback):
    r = client.get("/outgoing", {**VALID, "callback": callback, "_": "1700000000000"})
    assert r.status_code == 200
    assert r["Content-Type"] == "application/javascript; charset=utf-8"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r.content.decode() == f'/**/{callback}({{"error":false,"message":"The call\'s been placed."}});'


def test_jsonp_error_is_status_200(client, line, outbox):
    r = client.get("/outgoing", {"campaign_line": LINE, "callback": "cb"})
    assert r.status_code == 200
    assert r.content.decode() == (
        '/**/cb({"error":true,"message":"Sorry, but you haven\'t provided any of the info we were expecting."});'
    )


@pytest.mark.parametrize(
    "callback",
    [
        "alert(1)",
        "cb;alert(document.cookie)",
        "1cb",
        "a..b",
        "a.",
        ".a",
        "a b",
        "<script>",
        "cb//",
        "c\u00e9",
        "a" * 129,
        "a-b",
        "??",
    ],
)
def test_bad_callback_is_refused_and_never_echoed(client, line, outbox, callback):
    r = client.get("/outgoing", {**VALID, "callback": callback}, HTTP_ACCEPT=BROWSER_ACCEPT)
    assert r.status_code == 400
    assert r["Content-Type"] == "application/json"
    assert message(r) == INVALID
    assert callback.encode() not in r.content
    assert outbox == []
    assert CallAttempt.objects.get().outcome == "invalid"


def test_jquery_placeholder_callback_counts_as_absent(client, line, outbox):
    """``$.get(url + "?callback=?", info, cb)`` with no data type: jQuery sends ``?`` as it is."""
    r = client.get("/outgoing", {**VALID, "callback": "?"}, HTTP_ORIGIN="https://www.example.org")
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    assert r.content == b'{"error":false,"message":"The call\'s been placed."}'
    assert r["Access-Control-Allow-Origin"] == "*"
    assert len(outbox) == 1


# 3. JSON, 4. HTML


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json, text/javascript, */*; q=0.01"])
def test_json_answer(client, line, outbox, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    r = client.get("/outgoing", VALID, **headers)
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    assert r.content == b'{"error":false,"message":"The call\'s been placed."}'
    assert "Accept" in r["Vary"]
    assert "no-store" in r["Cache-Control"]


@pytest.mark.parametrize(
    "fields, accept",
    [
        (VALID, "application/json"),
        ({**VALID, "phone": "not a number"}, "application/json"),
        ({**VALID, "callback": "cb"}, "*/*"),
        (VALID, "text/html"),
        ({**VALID, "revmsghtml": THANKS}, BROWSER_ACCEPT),
    ],
)
def test_every_answer_carries_djangos_never_cache_headers(client, line, outbox, fields, accept):
    r = client.get("/outgoing", fields, HTTP_ACCEPT=accept, HTTP_REFERER=PAGE)
    expected = HttpResponse()
    add_never_cache_headers(expected)
    assert r["Cache-Control"] == expected["Cache-Control"]
    assert abs(parse_http_date(r["Expires"]) - parse_http_date(expected["Expires"])) <= 2
    assert list(r.headers).index("Expires") < list(r.headers).index("Cache-Control")


@pytest.mark.parametrize("accept", ["text/html", BROWSER_ACCEPT, "text/html, application/json;q=0.9"])
def test_html_answer_for_a_browser(client, line, outbox, accept):
    r = client.get("/outgoing", VALID, HTTP_ACCEPT=accept)
    assert r.status_code == 200 and r["Content-Type"] == "text/html; charset=utf-8"
    page = r.content.decode()
    assert '<html lang="en">' in page and "<title>Your call is on its way</title>" in page
    assert 'role="status"' in page and PLACED in html.unescape(page)


def test_html_error_page(client, line, outbox):
    r = client.get("/outgoing", {"campaign_line": "2025550143", "phone": "6175232338"}, HTTP_ACCEPT="text/html")
    assert r.status_code == 400
    page = r.content.decode()
    assert "Your call was not placed" in page and 'role="alert"' in page
    assert UNCONFIGURED in html.unescape(page)


# The route


@pytest.mark.parametrize("path", ["/outgoing", "/outgoing/"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_both_paths_answer_directly(client, line, outbox, path, method):
    if method == "get":
        r = client.get(path, VALID)
    else:
        r = client.generic("POST", path, urlencode(VALID), content_type=FORM)
    assert r.status_code == 200 and message(r) == PLACED


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE"])
def test_other_methods_are_405_with_the_json_body(client, line, outbox, method):
    r = client.generic(method, "/outgoing", urlencode(VALID), content_type=FORM)
    assert r.status_code == 405
    assert r["Content-Type"] == "application/json"
    assert message(r) == ERROR
    assert set(r["Allow"].replace(" ", "").split(",")) == {"GET", "POST", "OPTIONS"}
    assert outbox == [] and not CallAttempt.objects.exists()


def test_head_is_405(client, line, outbox):
    r = client.head("/outgoing", VALID)
    assert r.status_code == 405 and r["Content-Type"] == "application/json"
    assert outbox == []


def test_csrf_exempt_with_csrf_checks_on(line, outbox):
    client = Client(enforce_csrf_checks=True)
    # The client does enforce CSRF: a view that checks it refuses the same kind of post.
    assert client.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 403
    r = client.post("/outgoing/", VALID, HTTP_ORIGIN="https://campaign.test")
    assert r.status_code == 200 and message(r) == PLACED
    r = client.post("/outgoing", urlencode(VALID), content_type=FORM, HTTP_ORIGIN="https://campaign.test")
    assert r.status_code == 200 and len(outbox) == 2
    assert not r.cookies  # no session, no CSRF cookie


# CORS


def test_cors_on_success(client, line, outbox):
    r = client.get("/outgoing", VALID, HTTP_ORIGIN="https://campaign.test")
    assert r["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r


@pytest.mark.parametrize("fields", [{"phone": "1"}, {"phone": "6175232338", "campaign_line": "2025550143"}])
def test_cors_on_errors(client, line, outbox, fields):
    r = client.get("/outgoing", fields, HTTP_ORIGIN="https://campaign.test")
    assert r.status_code == 400 and r["Access-Control-Allow-Origin"] == "*"


def test_cors_on_405(client, line):
    r = client.generic("DELETE", "/outgoing", HTTP_ORIGIN="https://campaign.test")
    assert r.status_code == 405 and r["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/outgoing", "/outgoing/"])
def test_cors_preflight_for_json(client, line, outbox, path):
    r = client.options(
        path,
        HTTP_ORIGIN="https://campaign.test",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert r.status_code == 200
    assert r["Access-Control-Allow-Origin"] == "*"
    assert "content-type" in r["Access-Control-Allow-Headers"].lower()
    assert {"GET", "POST"} <= {m.strip() for m in r["Access-Control-Allow-Methods"].split(",")}
    assert "Access-Control-Allow-Credentials" not in r
    assert outbox == [] and not CallAttempt.objects.exists()


def test_cors_origins_can_be_narrowed(client, line, outbox, settings):
    settings.CORS_ALLOW_ALL_ORIGINS = False
    settings.CORS_ALLOWED_ORIGINS = ["https://www.example.org"]
    r = client.get("/outgoing", VALID, HTTP_ORIGIN="https://www.example.org")
    assert r["Access-Control-Allow-Origin"] == "https://www.example.org"
    r = client.get("/outgoing", VALID, HTTP_ORIGIN="https://campaign.test")
    assert "Access-Control-Allow-Origin" not in r


@pytest.mark.parametrize("path", ["/", "/admin/login/"])
def test_no_cors_elsewhere(client, line, path):
    r = client.get(path, HTTP_ORIGIN="https://campaign.test")
    assert r.status_code == 200
    assert not [h for h in r.headers if h.lower().startswith("access-control-")]
    r = client.options(
        path,
        HTTP_ORIGIN="https://campaign.test",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert not [h for h in r.headers if h.lower().startswith("access-control-")]


def test_no_https_redirect_on_outgoing(line, outbox, settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # a new handler reads the setting
    r = client.post("/outgoing/", urlencode(VALID), content_type=FORM)
    assert r.status_code == 200 and message(r) == PLACED
    assert client.get("/admin/login/").status_code == 301  # the rest of the site still goes to https


@pytest.mark.parametrize(
    "referrer,link",
    [
        (PAGE, PAGE),
        ("http://campaign.test/call?x=1&y=2", "http://campaign.test/call?x=1&y=2"),
        ("javascript:alert(1)", None),
        ("data:text/html,hi", None),
        ("", None),
    ],
)
def test_the_html_page_links_back_to_the_page_that_posted_the_form(client, line, outbox, referrer, link):
    r = form_post(client, VALID, HTTP_REFERER=referrer)
    page = r.content.decode()
    assert r["Content-Type"].startswith("text/html") and "Your call is on its way" in page
    if link is None:
        assert "Back to the previous page" not in page
    else:
        assert f'<a href="{html.escape(link)}">Back to the previous page</a>' in page
